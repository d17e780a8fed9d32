import { createHmac } from 'node:crypto';

/**
 * The user's pseudonym: HMAC-SHA256 of the raw id under the configured key, first 128 bits
 * in hex. Stable for a key, so one user keeps one partition and one history; without the key
 * it cannot be reversed or recomputed from a guessed id.
 */
export function pseudonymize(rawUserId: string, key: Buffer | string): string {
  return createHmac('sha256', key).update(rawUserId, 'utf8').digest('hex').slice(0, 32);
}
