import { CatalogItem, DeadLetter, recordHeaders } from '@reco/contracts';
import { decodeCatalogItem, normalizeCatalogItem, validateCatalogItem } from './domain/catalog-item';
import { decodeClickstreamEvent, validateClickstreamEvent } from './domain/clickstream-event';
import { CleanEventWriter } from './clean-event-writer';
import type { DedupClaim, DedupWindow } from './domain/dedup';
import type { ValidationLimits } from './domain/limits';
import type { Rejection } from './domain/rejection';
import type { RoutedMessage, UserRoutes } from './user-routes';

/** One consumed message, as the Kafka adapter hands it over. */
export interface RawMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Readonly<Record<string, string>>;
}

/** One message to produce (a clean event carries its user's route: key and partition). */
export interface OutMessage extends RoutedMessage {
  key: Buffer | string | null;
  value: Buffer;
  headers: Record<string, string>;
}

export interface BatchOutcome {
  clean: OutMessage[];
  catalog: OutMessage[];
  deadLetters: OutMessage[];
  rejections: Rejection[];
  duplicates: number;
  /** Events published again because their first sighting's transaction never committed. */
  replays: number;
  /** The batch's dedup claim, to confirm once committed (none when it had no valid event). */
  claim?: DedupClaim;
}

export interface PipelineDeps {
  limits: ValidationLimits;
  users: Pick<UserRoutes, 'route'>;
  dedup: DedupWindow;
  now: () => number;
}

// What each output topic's records carry, from the topic registry (docs/topics.md).
const CLEAN_HEADERS = recordHeaders('eventsClean');
const CATALOG_HEADERS = recordHeaders('catalog');
const DEAD_LETTER_HEADERS = recordHeaders('deadLetter');

/** The encoder's bytes as a Buffer without copying them. */
const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** Clean events' bytes, cut from shared slabs (safe: an event is written synchronously). */
const cleanWriter = new CleanEventWriter();

function deadLetter(message: RawMessage, rejection: Rejection, now: number): OutMessage {
  const letter: DeadLetter = {
    originalValue: message.value ?? Buffer.alloc(0),
    originalKey: message.key ?? Buffer.alloc(0),
    originalHeaders: message.headers,
    sourceTopic: message.topic,
    sourcePartition: message.partition,
    sourceOffset: Number(message.offset),
    reason: rejection.reason,
    field: rejection.field,
    detail: rejection.detail,
    failedAt: new Date(now),
    rejectedBy: 'ingest',
  };
  return {
    key: message.key,
    value: asBuffer(DeadLetter.encode(letter).finish()),
    headers: {
      ...DEAD_LETTER_HEADERS,
      'x-reject-reason': rejection.reason,
      'x-reject-field': rejection.field,
    },
  };
}

function emptyOutcome(): BatchOutcome {
  return {
    clean: [],
    catalog: [],
    deadLetters: [],
    rejections: [],
    duplicates: 0,
    replays: 0,
  };
}

/**
 * Raw clickstream of one partition → clean events and dead letters. Valid events are claimed in the dedup
 * window in one round trip; repeats of an id seen at another position are dropped (counted).
 * Output order follows input order, so one user's events keep their order.
 */
export async function ingestClickstream(messages: RawMessage[], deps: PipelineDeps): Promise<BatchOutcome> {
  const now = deps.now();
  const out = emptyOutcome();
  if (messages.length === 0) return out;
  const { topic, partition } = messages[0]!;
  // Each valid event is pseudonymized and written out at once, before the dedup round trip:
  // the decoded event is then garbage before the batch waits on Redis and on its transaction
  // (kept alive until then, scavenges copied much of each batch). A duplicate's bytes are
  // written in vain, which is rare.
  const written: OutMessage[] = [];
  const eventIds: string[] = [];
  const offsets: string[] = [];
  for (const message of messages) {
    if (message.topic !== topic || message.partition !== partition)
      throw new Error(
        `one batch, one partition: ${topic}/${partition} and ${message.topic}/${message.partition}`,
      );
    const decoded = decodeClickstreamEvent(message.value, message.headers['content-type'], deps.limits);
    const rejection = decoded.ok
      ? validateClickstreamEvent(decoded.value, now, deps.limits)
      : decoded.rejection;
    if (rejection) {
      out.rejections.push(rejection);
      out.deadLetters.push(deadLetter(message, rejection, now));
    } else if (decoded.ok) {
      const event = decoded.value;
      const route = deps.users.route(event.userId);
      written.push({
        key: route.key,
        value: cleanWriter.encode(event, route.pseudonym), // the normalized event's bytes
        headers: CLEAN_HEADERS,
        route,
      });
      eventIds.push(event.eventId);
      offsets.push(message.offset);
    }
  }
  if (written.length === 0) return out;
  const claim = await deps.dedup.claim({ topic, partition, eventIds, offsets });
  out.claim = claim;
  const sightings = claim.sightings;
  for (let i = 0; i < written.length; i++) {
    if (sightings[i] === 'duplicate') out.duplicates++;
    else if (sightings[i] === 'replay') out.replays++;
  }
  out.clean = out.duplicates === 0 ? written : written.filter((_, i) => sightings[i] !== 'duplicate');
  return out;
}

/** Raw catalog upserts → the compacted catalog topic (keyed by item id) and dead letters. */
export function ingestCatalog(
  messages: RawMessage[],
  deps: Pick<PipelineDeps, 'limits' | 'now'>,
): BatchOutcome {
  const now = deps.now();
  const out = emptyOutcome();
  for (const message of messages) {
    const decoded = decodeCatalogItem(message.value, message.headers['content-type'], deps.limits);
    const rejection = decoded.ok ? validateCatalogItem(decoded.value, now, deps.limits) : decoded.rejection;
    if (rejection) {
      out.rejections.push(rejection);
      out.deadLetters.push(deadLetter(message, rejection, now));
    } else if (decoded.ok) {
      const item = normalizeCatalogItem(decoded.value);
      out.catalog.push({
        key: item.itemId,
        value: asBuffer(CatalogItem.encode(item).finish()),
        headers: CATALOG_HEADERS,
      });
    }
  }
  return out;
}
