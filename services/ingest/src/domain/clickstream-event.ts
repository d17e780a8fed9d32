import {
  CONTENT_TYPE_JSON,
  CONTENT_TYPE_PROTOBUF,
  ClickstreamEvent,
  EventType,
  eventTypeFromJSON,
} from '@reco/contracts';
import { checkJsonShape, type JsonField } from './json-shape';
import { readPlainJsonEvent } from './plain-json-event';
import { checkAmount, checkId, checkText, checkTime } from './field-rules';
import type { ValidationLimits } from './limits';
import { reject, type Rejection, type Verdict } from './rejection';

export const SCHEMA_VERSION = 'reco.v1';

const EVENT_JSON_SHAPE: JsonField[] = [
  { name: 'event_id', kind: 'string' },
  { name: 'type', kind: 'enum' },
  { name: 'user_id', kind: 'string' },
  { name: 'session_id', kind: 'string' },
  { name: 'item_id', kind: 'string' },
  { name: 'query', kind: 'string' },
  { name: 'quantity', kind: 'number' },
  { name: 'price', kind: 'number' },
  { name: 'timestamp', kind: 'timestamp' },
  {
    name: 'context',
    kind: 'object',
    children: [
      { name: 'device', kind: 'string' },
      { name: 'page', kind: 'string' },
      { name: 'referrer', kind: 'string' },
    ],
  },
  { name: 'schema_version', kind: 'string' },
];

const TYPES_WITH_ITEM = new Set([
  EventType.EVENT_TYPE_VIEW,
  EventType.EVENT_TYPE_CLICK,
  EventType.EVENT_TYPE_ADD_TO_CART,
  EventType.EVENT_TYPE_PURCHASE,
  EventType.EVENT_TYPE_IMPRESSION,
]);
const TYPES_WITH_QUANTITY = new Set([EventType.EVENT_TYPE_ADD_TO_CART, EventType.EVENT_TYPE_PURCHASE]);

/** Accepts the canonical enum names (EVENT_TYPE_VIEW) and, for producers' convenience, "view". */
export function parseEventType(raw: unknown): EventType {
  if (typeof raw === 'string' && /^[a-z_]+$/.test(raw))
    return eventTypeFromJSON(`EVENT_TYPE_${raw.toUpperCase()}`);
  return eventTypeFromJSON(raw);
}

/** Decodes a raw message by its content type into an event, or says why it cannot. */
export function decodeClickstreamEvent(
  value: Buffer | null,
  contentType: string | undefined,
  limits: Pick<ValidationLimits, 'allowUnknownJsonFields'>,
): Verdict<ClickstreamEvent> {
  if (!value || value.length === 0) return reject('malformed_json', '', 'empty message value');
  const type =
    contentType === undefined || contentType === CONTENT_TYPE_JSON || contentType === CONTENT_TYPE_PROTOBUF
      ? (contentType ?? CONTENT_TYPE_JSON)
      : contentType.split(';')[0]!.trim().toLowerCase();
  if (type === CONTENT_TYPE_PROTOBUF) {
    try {
      return { ok: true, value: ClickstreamEvent.decode(value) };
    } catch (err) {
      return reject('malformed_protobuf', '', (err as Error).message);
    }
  }
  if (type !== CONTENT_TYPE_JSON)
    return reject(
      'unsupported_content_type',
      '',
      `content-type "${contentType}" is neither JSON nor protobuf`,
    );
  // The common form read directly, first from a Latin-1 reading of the bytes (cheaper to make
  // than UTF-8's, and the same text when the reader takes it: it then holds only ASCII); any
  // other form, or a fault, the general way.
  const plain = readPlainJsonEvent(value.toString('latin1'), parseEventType, true);
  if (plain) return { ok: true, value: plain };
  const text = value.toString('utf8');
  const plainUnicode = readPlainJsonEvent(text, parseEventType);
  return plainUnicode ? { ok: true, value: plainUnicode } : decodeJsonEvent(text, limits);
}

/**
 * The general reading of a JSON event: JSON.parse, the proto3 JSON shape (naming the field at
 * fault), then the generated fromJSON.
 */
export function decodeJsonEvent(
  text: string,
  limits: Pick<ValidationLimits, 'allowUnknownJsonFields'>,
): Verdict<ClickstreamEvent> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return reject('malformed_json', '', (err as Error).message);
  }
  const shape = checkJsonShape(json, EVENT_JSON_SHAPE, { allowUnknownFields: limits.allowUnknownJsonFields });
  if (shape) return { ok: false, rejection: shape };
  const obj = json as Record<string, unknown>;
  const event = ClickstreamEvent.fromJSON(obj);
  if (obj.type !== undefined && obj.type !== null) event.type = parseEventType(obj.type);
  return { ok: true, value: event };
}

function checkType(type: EventType): Rejection | undefined {
  if (type === EventType.EVENT_TYPE_UNSPECIFIED)
    return reject('missing_field', 'type', 'type is required').rejection;
  if (!(type in EventType) || type === EventType.UNRECOGNIZED)
    return reject(
      'invalid_enum',
      'type',
      `unknown event type; expected one of view, click, add_to_cart, purchase, search, impression`,
    ).rejection;
  return undefined;
}

/**
 * Field rules of a clickstream event; the first broken rule is reported. (A chain of `??`
 * rather than a list of closures: this runs for every event.)
 */
export function validateClickstreamEvent(
  e: ClickstreamEvent,
  now: number,
  limits: ValidationLimits,
): Rejection | undefined {
  const ctx = e.context;
  return (
    checkId('event_id', e.eventId, true, limits.maxIdLength) ??
    checkType(e.type) ??
    checkId('user_id', e.userId, true, limits.maxIdLength) ??
    checkId('session_id', e.sessionId, false, limits.maxIdLength) ??
    checkId('item_id', e.itemId, TYPES_WITH_ITEM.has(e.type), limits.maxIdLength) ??
    checkText('query', e.query, e.type === EventType.EVENT_TYPE_SEARCH, limits.maxQueryLength) ??
    checkAmount('quantity', e.quantity, limits.maxQuantity) ??
    // uint32 on the wire: a fraction from JSON made the encoder throw and the batch fail forever
    (Number.isInteger(e.quantity)
      ? undefined
      : reject('invalid_type', 'quantity', `quantity ${e.quantity} is not a whole number`).rejection) ??
    checkAmount('price', e.price, limits.maxPrice) ??
    checkTime('timestamp', e.timestamp, true, now, limits) ??
    (ctx
      ? (checkText('context.device', ctx.device, false, limits.maxContextLength) ??
        checkText('context.page', ctx.page, false, limits.maxContextLength) ??
        checkText('context.referrer', ctx.referrer, false, limits.maxReferrerLength))
      : undefined) ??
    (e.schemaVersion !== '' && e.schemaVersion !== SCHEMA_VERSION
      ? reject(
          'unsupported_schema_version',
          'schema_version',
          `schema_version "${e.schemaVersion}" is not ${SCHEMA_VERSION}`,
        ).rejection
      : undefined)
  );
}

/** A cart or purchase event without a quantity means one. */
export const normalizedQuantity = (e: ClickstreamEvent): number =>
  TYPES_WITH_QUANTITY.has(e.type) && e.quantity === 0 ? 1 : e.quantity;

/**
 * The clean form of a valid event: defaults filled, user id replaced by its pseudonym.
 * (`CleanEventWriter` writes this form's bytes without building it; keep the two in step.)
 */
export function normalizeClickstreamEvent(e: ClickstreamEvent, pseudonym: string): ClickstreamEvent {
  return {
    ...e,
    userId: pseudonym,
    query: e.query.trim(),
    quantity: normalizedQuantity(e),
    schemaVersion: SCHEMA_VERSION,
  };
}
