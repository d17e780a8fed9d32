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
 * Something computed once per raw user id, in a bounded memo: a clickstream repeats the same
 * users constantly, and what is computed from the id (the HMAC first of all) is the costliest
 * step per event. Oldest entries go first once the memo is full.
 */
export class RawUserMemo<V> {
  private readonly memo = new Map<string, V>();
  constructor(
    private readonly compute: (rawUserId: string) => V,
    private readonly capacity = 100_000,
  ) {}

  get size(): number {
    return this.memo.size;
  }

  get(rawUserId: string): V {
    let value = this.memo.get(rawUserId);
    if (value === undefined) {
      value = this.compute(rawUserId);
      if (this.memo.size >= this.capacity) this.memo.delete(this.memo.keys().next().value!);
      // A copy of the id: it may be a slice of a whole message's text, which the memo would
      // otherwise keep alive (JSON's round trip copies any string exactly, lone surrogates too).
      this.memo.set(JSON.parse(JSON.stringify(rawUserId)) as string, value);
    }
    return value;
  }
}

/** pseudonymize, memoized per raw id (RawUserMemo). */
export class Pseudonymizer {
  private readonly memo: RawUserMemo<string>;
  constructor(key: Buffer, capacity = 100_000) {
    this.memo = new RawUserMemo((rawUserId) => pseudonymize(rawUserId, key), capacity);
  }

  pseudonym(rawUserId: string): string {
    return this.memo.get(rawUserId);
  }
}
