import { createHmac } from 'node:crypto';

/**
 * The user's pseudonym: HMAC-SHA256 of the raw id under the configured key, first 128 bits
 * in hex. Stable for a key, so one user keeps one partition and one history; without the key
 * it cannot be reversed or recomputed from a guessed id.
 */
export function pseudonymize(rawUserId: string, key: Buffer | string): string {
  return createHmac('sha256', key).update(rawUserId, 'utf8').digest('hex').slice(0, 32);
}

/**
 * pseudonymize with a bounded memo: a clickstream repeats the same users constantly and the
 * HMAC is the costliest step per event. Oldest entries go first once the memo is full.
 */
export class Pseudonymizer {
  private readonly memo = new Map<string, string>();
  constructor(
    private readonly key: Buffer,
    private readonly capacity = 100_000,
  ) {}

  pseudonym(rawUserId: string): string {
    let p = this.memo.get(rawUserId);
    if (p === undefined) {
      p = pseudonymize(rawUserId, this.key);
      if (this.memo.size >= this.capacity) this.memo.delete(this.memo.keys().next().value!);
      // A copy of the id: it may be a slice of a whole message's text, which the memo would
      // otherwise keep alive (JSON's round trip copies any string exactly, lone surrogates too).
      this.memo.set(JSON.parse(JSON.stringify(rawUserId)) as string, p);
    }
    return p;
  }
}
