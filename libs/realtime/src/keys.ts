/**
 * The Redis layout that features writes and inference reads.
 *
 * - `<prefix>{u:<user>}`: one string per user, the binary UserState (user-state.ts), with a
 *   TTL refreshed on every write. The braces are a Redis Cluster hash tag: any further per-user
 *   key must be `<prefix>{u:<user>}:<suffix>` so that all of a user's keys live on one slot.
 * - `<prefix>{pop}:...`: item popularity. Every popularity key shares the `{pop}` hash tag so
 *   that ZUNIONSTORE over the time buckets runs on one slot.
 *   - `{pop}:5m:<bucket>` / `{pop}:1h:<bucket>`: weighted event counts per item per 5-minute /
 *     hour bucket (bucket = floor(epoch seconds / size)), expiring after the longest window.
 *   - `{pop}:w1h`, `{pop}:w24h`, `{pop}:w7d`: sliding-window sums, rebuilt every few seconds.
 *   - `{pop}:trending`: trending score per item (features' domain/popularity.ts).
 */
export function userKey(prefix: string, userId: string): string {
  return `${prefix}{u:${userId}}`;
}

/** SCAN pattern matching every user key (glob specials in the prefix escaped). */
export function userKeyPattern(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}{u:*`;
}

/** The user id inside a user key, or undefined. */
export function userIdOfKey(prefix: string, key: string): string | undefined {
  if (!key.startsWith(`${prefix}{u:`) || !key.endsWith('}')) return undefined;
  return key.slice(prefix.length + 3, -1);
}

export const POPULARITY_WINDOWS = ['w1h', 'w24h', 'w7d'] as const;
export type PopularityWindow = (typeof POPULARITY_WINDOWS)[number];

export const popularityKeys = (prefix: string) => ({
  bucket5m: (bucket: number) => `${prefix}{pop}:5m:${bucket}`,
  bucket1h: (bucket: number) => `${prefix}{pop}:1h:${bucket}`,
  window: (w: PopularityWindow) => `${prefix}{pop}:${w}`,
  trending: `${prefix}{pop}:trending`,
});
