import type { ClickstreamEvent, EventContext, EventType } from '@reco/contracts';

/*
 * A reader for the form nearly every JSON event comes in: one object whose fields are the
 * event's own (snake_case or lowerCamelCase names, each at most once), strings without escapes,
 * numbers as JSON numbers, no nulls. It reads the text once, straight into the event, where
 * JSON.parse, the shape check and the generated fromJSON built and walked an object per event
 * (a fifth of ingest's CPU per event). Anything else, valid or not, it leaves to the general
 * path (`undefined`), which also names the field at fault: for every text this reader accepts,
 * it gives exactly the general path's event (the unit test checks it on a corpus and on
 * mutations of it), and validation then applies the same field rules to both.
 *
 * Positions are passed and returned as plain numbers (-1: not the plain form) so that the
 * helpers compile to tight loops over the text.
 */

// Bits of the fields seen so far (a field given twice, by either name, goes to the general path).
const EVENT_ID = 1;
const TYPE = 2;
const USER_ID = 4;
const SESSION_ID = 8;
const ITEM_ID = 16;
const QUERY = 32;
const QUANTITY = 64;
const PRICE = 128;
const TIMESTAMP = 256;
const CONTEXT = 512;
const SCHEMA_VERSION = 1024;
const DEVICE = 1;
const PAGE = 2;
const REFERRER = 4;

/** JSON names (proto name and lowerCamelCase) and their field bits, by first character code. */
type Names = (readonly [string, number])[][];

function byFirstChar(names: [string, number][]): Names {
  const table: Names = Array.from({ length: 128 }, () => []);
  for (const entry of names) table[entry[0].charCodeAt(0)]!.push(entry);
  return table;
}
const EVENT_NAMES = byFirstChar([
  ['event_id', EVENT_ID],
  ['eventId', EVENT_ID],
  ['type', TYPE],
  ['user_id', USER_ID],
  ['userId', USER_ID],
  ['session_id', SESSION_ID],
  ['sessionId', SESSION_ID],
  ['item_id', ITEM_ID],
  ['itemId', ITEM_ID],
  ['query', QUERY],
  ['quantity', QUANTITY],
  ['price', PRICE],
  ['timestamp', TIMESTAMP],
  ['context', CONTEXT],
  ['schema_version', SCHEMA_VERSION],
  ['schemaVersion', SCHEMA_VERSION],
]);
const CONTEXT_NAMES = byFirstChar([
  ['device', DEVICE],
  ['page', PAGE],
  ['referrer', REFERRER],
]);

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
const SMALL_E = 0x65;
const CAPITAL_E = 0x45;

const isDigit = (c: number) => c >= ZERO && c <= NINE;

/** The first position at or after `p` that is not JSON whitespace. */
function skipSpace(text: string, p: number): number {
  for (;;) {
    const c = text.charCodeAt(p);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return p;
    p++;
  }
}

/**
 * The closing quote of the string opening at `p`, or -1 if there is none or the string holds an
 * escape, a control character (JSON.parse refuses those) or a character above `maxChar`.
 */
function stringEnd(text: string, p: number, maxChar: number): number {
  if (text.charCodeAt(p) !== QUOTE) return -1;
  for (;;) {
    const c = text.charCodeAt(++p);
    if (c === QUOTE) return p;
    if (c === BACKSLASH || !(c >= 0x20 && c <= maxChar)) return -1; // NaN past the end
  }
}

/** The field bit of the key `afterKey` read last (one number, not an object per key). */
let keyBit = 0;

/**
 * After the key opening at `p` and its colon: where the value starts, with the key's field bit
 * in `keyBit`; -1 if this is not a key among `names` (exactly one of the names between quotes,
 * so the key is read once, guided by its first character) followed by a colon.
 */
function afterKey(text: string, p: number, names: Names): number {
  if (text.charCodeAt(p) !== QUOTE) return -1;
  const candidates = names[text.charCodeAt(p + 1)]; // undefined beyond ASCII
  if (candidates === undefined) return -1;
  for (let i = 0; i < candidates.length; i++) {
    const [name, bit] = candidates[i]!;
    const n = name.length;
    if (text.charCodeAt(p + 1 + n) !== QUOTE) continue;
    let k = 1;
    while (k < n && name.charCodeAt(k) === text.charCodeAt(p + 1 + k)) k++;
    if (k < n) continue;
    keyBit = bit;
    p = skipSpace(text, p + 2 + n);
    return text.charCodeAt(p) === COLON ? skipSpace(text, p + 1) : -1;
  }
  return -1;
}

/** The end of the number in JSON's grammar starting at `p`, or -1 if none starts there. */
function numberEnd(text: string, p: number): number {
  let c = text.charCodeAt(p);
  if (c === MINUS) c = text.charCodeAt(++p);
  if (c === ZERO) c = text.charCodeAt(++p);
  else if (c > ZERO && c <= NINE) while (isDigit((c = text.charCodeAt(++p))));
  else return -1;
  if (c === DOT) {
    if (!isDigit(text.charCodeAt(++p))) return -1;
    while (isDigit((c = text.charCodeAt(++p))));
  }
  if (c === SMALL_E || c === CAPITAL_E) {
    c = text.charCodeAt(++p);
    if (c === PLUS || c === MINUS) c = text.charCodeAt(++p);
    if (!isDigit(c)) return -1;
    while (isDigit(text.charCodeAt(++p)));
  }
  return p;
}

/** The value of the JSON number text[start, end), as JSON.parse gives it. */
function numberValue(text: string, start: number, end: number): number {
  const negative = text.charCodeAt(start) === MINUS;
  // Up to 15 digits without fraction or exponent: exact in a double at every step.
  if (end - start <= 15) {
    let whole = 0;
    for (let p = negative ? start + 1 : start; p < end; p++) {
      const c = text.charCodeAt(p);
      if (!isDigit(c)) return Number(text.slice(start, end));
      whole = whole * 10 + (c - ZERO);
    }
    return negative ? -whole : whole; // '-0' gives -0, as in JSON.parse
  }
  // Number() and JSON.parse round a JSON number's text to the same double.
  return Number(text.slice(start, end));
}

/** Two decimal digits at `p` as a number, or NaN. */
function twoDigits(text: string, p: number): number {
  const a = text.charCodeAt(p) - ZERO;
  const b = text.charCodeAt(p + 1) - ZERO;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil), in integer
 * arithmetic: Date.UTC's result without its call. A day past the month's end counts on into
 * the next month, as in Date.UTC and the Date parser.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * The time in text[start, end) as the generated fromJSON reads it (`new Date(text)`). The form
 * `toISOString()` writes (YYYY-MM-DDTHH:MM:SS.sssZ, or without .sss) is read directly, with
 * every part in the range where this arithmetic and the Date parser agree; anything else is parsed.
 */
function timeOf(text: string, start: number, end: number): Date {
  const length = end - start;
  if (
    (length === 24 || length === 20) &&
    text.charCodeAt(start + 4) === MINUS &&
    text.charCodeAt(start + 7) === MINUS &&
    text.charCodeAt(start + 10) === 0x54 && // T
    text.charCodeAt(start + 13) === COLON &&
    text.charCodeAt(start + 16) === COLON &&
    text.charCodeAt(end - 1) === 0x5a && // Z
    (length === 20 || text.charCodeAt(start + 19) === DOT)
  ) {
    const year = twoDigits(text, start) * 100 + twoDigits(text, start + 2);
    const month = twoDigits(text, start + 5);
    const day = twoDigits(text, start + 8);
    const hour = twoDigits(text, start + 11);
    const minute = twoDigits(text, start + 14);
    const second = twoDigits(text, start + 17);
    const hundreds = length === 24 ? text.charCodeAt(start + 20) - ZERO : 0;
    const rest = length === 24 ? twoDigits(text, start + 21) : 0;
    if (
      year >= 1970 &&
      year <= 9999 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= 31 &&
      hour <= 23 &&
      minute <= 59 &&
      second <= 59 &&
      hundreds >= 0 &&
      hundreds <= 9 &&
      rest >= 0
    )
      return new Date(
        ((daysFromCivil(year, month, day) * 24 + hour) * 60 + minute) * 60_000 +
          second * 1000 +
          hundreds * 100 +
          rest,
      );
  }
  return new Date(text.slice(start, end));
}

/**
 * Reads the context object opening at `p` into `context`; the position after it, or -1 if it
 * is not in the plain form.
 */
function readContext(text: string, p: number, maxChar: number, context: EventContext): number {
  let seen = 0;
  p = skipSpace(text, p + 1);
  if (text.charCodeAt(p) === CLOSE) return p + 1;
  for (;;) {
    p = afterKey(text, p, CONTEXT_NAMES);
    const bit = keyBit;
    if (p < 0 || seen & bit) return -1;
    seen |= bit;
    const end = stringEnd(text, p, maxChar);
    if (end < 0) return -1;
    const value = text.slice(p + 1, end);
    if (bit === DEVICE) context.device = value;
    else if (bit === PAGE) context.page = value;
    else context.referrer = value;
    p = skipSpace(text, end + 1);
    const c = text.charCodeAt(p);
    if (c === CLOSE) return p + 1;
    if (c !== COMMA) return -1;
    p = skipSpace(text, p + 1);
  }
}

/**
 * The event of a JSON text in the plain form, or undefined when the text is in any other
 * form (then the general path decides). `parseEventType` is the general path's reading of
 * the `type` string, so both read it alike. With `asciiOnly`, a text holding any character
 * above 0x7f is left alone too: the caller may then pass a Latin-1 reading of UTF-8 bytes
 * (cheaper to make, and the same text whenever every byte is ASCII).
 */
export function readPlainJsonEvent(
  text: string,
  parseEventType: (name: string) => EventType,
  asciiOnly = false,
): ClickstreamEvent | undefined {
  const maxChar = asciiOnly ? 0x7f : 0xffff;
  let eventId = '';
  let type: EventType = 0;
  let userId = '';
  let sessionId = '';
  let itemId = '';
  let query = '';
  let quantity = 0;
  let price = 0;
  let timestamp: Date | undefined;
  let context: EventContext | undefined;
  let schemaVersion = '';
  let p = skipSpace(text, 0);
  if (text.charCodeAt(p) !== OPEN) return undefined;
  p = skipSpace(text, p + 1);
  let seen = 0;
  if (text.charCodeAt(p) === CLOSE) p++;
  else
    for (;;) {
      p = afterKey(text, p, EVENT_NAMES);
      const bit = keyBit;
      if (p < 0 || seen & bit) return undefined;
      seen |= bit;
      if (bit === QUANTITY || bit === PRICE) {
        const end = numberEnd(text, p);
        if (end < 0) return undefined;
        if (bit === QUANTITY) quantity = numberValue(text, p, end);
        else price = numberValue(text, p, end);
        p = end;
      } else if (bit === CONTEXT) {
        if (text.charCodeAt(p) !== OPEN) return undefined;
        context = { device: '', page: '', referrer: '' };
        p = readContext(text, p, maxChar, context);
        if (p < 0) return undefined;
      } else {
        const end = stringEnd(text, p, maxChar);
        if (end < 0) return undefined;
        if (bit === TIMESTAMP) timestamp = timeOf(text, p + 1, end);
        else {
          const value = text.slice(p + 1, end);
          if (bit === EVENT_ID) eventId = value;
          else if (bit === TYPE) type = parseEventType(value);
          else if (bit === USER_ID) userId = value;
          else if (bit === SESSION_ID) sessionId = value;
          else if (bit === ITEM_ID) itemId = value;
          else if (bit === QUERY) query = value;
          else schemaVersion = value;
        }
        p = end + 1;
      }
      p = skipSpace(text, p);
      const c = text.charCodeAt(p);
      if (c === CLOSE) {
        p++;
        break;
      }
      if (c !== COMMA) return undefined;
      p = skipSpace(text, p + 1);
    }
  if (skipSpace(text, p) < text.length) return undefined; // more after the object
  // Fields in the generated fromJSON's order: events from both paths share one object shape.
  return {
    eventId,
    type,
    userId,
    sessionId,
    itemId,
    query,
    quantity,
    price,
    timestamp,
    context,
    schemaVersion,
  };
}
