import type { Redis } from 'ioredis';
import { classifySighting, confirmedMark, type DedupWindow, type Sighting } from '../domain/dedup';
import { DEDUP_SHARDS, dedupKey, groupByShard } from '../domain/dedup-shards';

/**
 * Claims every key: `SET key position PX window NX GET` (the previous mark, or '' when there was
 * none: a nil would end Lua's reply array). ARGV[1] is the window, ARGV[i + 1] KEYS[i]'s mark.
 */
const CLAIM_LUA = `
local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[1], 'NX', 'GET') or ''
end
return out`;

/** Overwrites every key that still exists: `SET key mark PX window XX`. */
const CONFIRM_LUA = `
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[1], 'XX')
end
return #KEYS`;

type ScriptCall = (numKeys: number, ...args: string[]) => unknown;

/**
 * The dedup window in Redis: one key per event id holding the position of its first
 * sighting, expiring after the window. A batch is claimed in one round trip: its ids are
 * grouped by shard (`dedup-shards.ts`; one hash slot per shard, so this also works on Redis
 * Cluster) and each group is claimed by one script call doing `SET NX GET` per id; confirming
 * after the commit works the same way with `SET XX`.
 */
export class RedisDedupWindow implements DedupWindow {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly windowMs: number,
    private readonly shards: number = DEDUP_SHARDS,
  ) {
    if (!('ingestDedupClaim' in redis)) {
      redis.defineCommand('ingestDedupClaim', { lua: CLAIM_LUA });
      redis.defineCommand('ingestDedupConfirm', { lua: CONFIRM_LUA });
    }
  }

  async claim(claims: { eventId: string; position: string }[]): Promise<Sighting[]> {
    if (claims.length === 0) return [];
    const groups = groupByShard(
      claims.map((c) => c.eventId),
      this.shards,
    );
    const pipeline = this.redis.pipeline();
    const call = (pipeline as unknown as Record<'ingestDedupClaim', ScriptCall>).ingestDedupClaim;
    for (const { shard, indices } of groups)
      call.apply(
        pipeline,
        this.scriptArgs(shard, indices, claims, (c) => c.position),
      );
    const results = (await pipeline.exec()) ?? [];
    const sightings = new Array<Sighting>(claims.length);
    groups.forEach(({ indices }, g) => {
      const [err, previous] = results[g] ?? [new Error('dedup claim: no reply')];
      if (err) throw err;
      const marks = previous as string[];
      if (!Array.isArray(marks) || marks.length !== indices.length)
        throw new Error(`dedup claim: ${indices.length} keys, unexpected reply ${String(previous)}`);
      indices.forEach((i, k) => {
        const mark = marks[k];
        sightings[i] = classifySighting(mark === '' ? null : mark!, claims[i]!.position);
      });
    });
    return sightings;
  }

  async confirm(claims: { eventId: string; position: string }[]): Promise<void> {
    if (claims.length === 0) return;
    const groups = groupByShard(
      claims.map((c) => c.eventId),
      this.shards,
    );
    const pipeline = this.redis.pipeline();
    const call = (pipeline as unknown as Record<'ingestDedupConfirm', ScriptCall>).ingestDedupConfirm;
    for (const { shard, indices } of groups)
      call.apply(
        pipeline,
        this.scriptArgs(shard, indices, claims, (c) => confirmedMark(c.position)),
      );
    const results = (await pipeline.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
  }

  /** numkeys, the group's keys, the window, then one mark per key. */
  private scriptArgs(
    shard: number,
    indices: number[],
    claims: { eventId: string; position: string }[],
    mark: (c: { eventId: string; position: string }) => string,
  ): [number, ...string[]] {
    const n = indices.length;
    const args = new Array<string>(2 * n + 1);
    args[n] = String(this.windowMs);
    for (let k = 0; k < n; k++) {
      const c = claims[indices[k]!]!;
      args[k] = dedupKey(this.keyPrefix, shard, c.eventId);
      args[n + 1 + k] = mark(c);
    }
    return [n, ...args];
  }
}
