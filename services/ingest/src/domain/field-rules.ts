import type { ValidationLimits } from './limits';
import { reject, type Rejection } from './rejection';

// Ids are opaque tokens: printable ASCII without spaces keeps them safe in keys and logs.
const ID_PATTERN = /^[\x21-\x7e]+$/;
// Free text may hold any printable character but no control characters.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

/** A required or optional id: bounded, printable, no spaces. */
export function checkId(field: string, value: string, required: boolean, max: number): Rejection | undefined {
  if (value === '')
    return required ? reject('missing_field', field, `${field} is required`).rejection : undefined;
  if (value.length > max)
    return reject('too_long', field, `${field} has ${value.length} chars, max ${max}`).rejection;
  if (!ID_PATTERN.test(value))
    return reject('invalid_chars', field, `${field} must be printable ASCII without spaces`).rejection;
  return undefined;
}

/** Free text: bounded, without control characters. */
export function checkText(
  field: string,
  value: string,
  required: boolean,
  max: number,
): Rejection | undefined {
  if (value.trim() === '')
    return required ? reject('missing_field', field, `${field} is required`).rejection : undefined;
  if (value.length > max)
    return reject('too_long', field, `${field} has ${value.length} chars, max ${max}`).rejection;
  if (CONTROL_CHARS.test(value))
    return reject('invalid_chars', field, `${field} holds control characters`).rejection;
  return undefined;
}

/** A finite, non-negative number not above max. */
export function checkAmount(field: string, value: number, max: number): Rejection | undefined {
  if (!Number.isFinite(value))
    return reject('not_finite', field, `${field} must be a finite number`).rejection;
  if (value < 0) return reject('negative', field, `${field} must not be negative`).rejection;
  if (value > max) return reject('out_of_range', field, `${field} ${value} is above ${max}`).rejection;
  return undefined;
}

/** A point in time within [now - maxAge, now + skew]. */
export function checkTime(
  field: string,
  value: Date | undefined,
  required: boolean,
  now: number,
  limits: Pick<ValidationLimits, 'maxEventAgeMs' | 'maxClockSkewMs'>,
): Rejection | undefined {
  if (value === undefined)
    return required ? reject('missing_field', field, `${field} is required`).rejection : undefined;
  const t = value.getTime();
  if (Number.isNaN(t)) return reject('invalid_type', field, `${field} is not an RFC 3339 time`).rejection;
  if (t > now + limits.maxClockSkewMs)
    return reject('timestamp_in_future', field, `${field} ${value.toISOString()} is in the future`).rejection;
  if (t < now - limits.maxEventAgeMs)
    return reject('timestamp_too_old', field, `${field} ${value.toISOString()} is older than allowed`)
      .rejection;
  return undefined;
}

/** The first rejection of a list of checks, in order. */
export function firstRejection(...checks: (() => Rejection | undefined)[]): Rejection | undefined {
  for (const check of checks) {
    const r = check();
    if (r) return r;
  }
  return undefined;
}
