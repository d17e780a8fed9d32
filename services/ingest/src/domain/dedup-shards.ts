/**
 * How the dedup window spreads event ids over a fixed number of shards. Each shard's keys
 * carry the same Redis hash tag (`{<shard>}`), so all of them live in one hash slot and one
 * script call may touch them together, also on Redis Cluster. The count is part of the key
 * layout: changing it moves every id to another key (the window forgets what it saw).
 */
export const DEDUP_SHARDS = 64;

/** FNV-1a over the id's UTF-16 code units, reduced to a shard. Stable across processes. */
export function dedupShard(eventId: string, shards: number = DEDUP_SHARDS): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < eventId.length; i++) {
    h ^= eventId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

/**
 * The Redis key of a shard's bucket (`dedup-buckets.ts`): the hash tag names the shard, so one
 * shard = one slot. The `b` keeps these apart from the one-key-per-id layout of earlier
 * versions (`<prefix>{<shard>}<event id>`), which may still be in Redis.
 */
export const dedupBucketKey = (prefix: string, shard: number, bucket: number) =>
  `${prefix}b{${shard}}:${bucket}`;

/** One shard's share of a batch: the positions (in the batch) of its ids, in batch order. */
export interface ShardGroup {
  shard: number;
  indices: number[];
}

/**
 * Groups a batch's event ids by shard, keeping batch order inside each group; groups come in
 * the order their shard first appears. Every index appears in exactly one group.
 */
export function groupByShard(eventIds: readonly string[], shards: number = DEDUP_SHARDS): ShardGroup[] {
  const byShard = new Map<number, number[]>();
  for (let i = 0; i < eventIds.length; i++) {
    const shard = dedupShard(eventIds[i]!, shards);
    const indices = byShard.get(shard);
    if (indices) indices.push(i);
    else byShard.set(shard, [i]);
  }
  return [...byShard].map(([shard, indices]) => ({ shard, indices }));
}
