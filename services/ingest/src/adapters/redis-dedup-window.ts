import type { Redis } from 'ioredis';
import {
  classifySighting,
  COMMITTED_SUFFIX,
  positionPrefix,
  sourcePosition,
  type DedupClaim,
  type DedupWindow,
  type Sighting,
  type SourceEvents,
} from '../domain/dedup';
import { DEDUP_SHARDS, dedupKey, groupByShard } from '../domain/dedup-shards';

/*
 * Both scripts take a shard's keys and ARGV = window ms, mark prefix, the keys' offsets joined
 * by ',' (in KEYS order), mark suffix: KEYS[i]'s mark is prefix .. i-th offset .. suffix. The
 * marks are put together in Redis so the client sends one offset per event instead of a whole
 * position string (building and writing those was a good part of ingest's CPU per event).
 */

/**
 * `SET key mark PX window NX GET` per key. Replies only for keys that already held a mark, as
 * pairs (index in KEYS, previous mark): nearly always an empty reply.
 */
const CLAIM_LUA = `
local window, prefix, suffix = ARGV[1], ARGV[2], ARGV[4]
local seen = {}
local i = 0
for offset in string.gmatch(ARGV[3], '[^,]+') do
  i = i + 1
  local previous = redis.call('SET', KEYS[i], prefix .. offset .. suffix, 'PX', window, 'NX', 'GET')
  if previous then
    seen[#seen + 1] = i
    seen[#seen + 1] = previous
  end
end
if i ~= #KEYS then return redis.error_reply('dedup claim: ' .. #KEYS .. ' keys, ' .. i .. ' offsets') end
return seen`;

/** Overwrites every key that still exists: `SET key mark PX window XX`. */
const CONFIRM_LUA = `
local window, prefix, suffix = ARGV[1], ARGV[2], ARGV[4]
local i = 0
for offset in string.gmatch(ARGV[3], '[^,]+') do
  i = i + 1
  redis.call('SET', KEYS[i], prefix .. offset .. suffix, 'PX', window, 'XX')
end
return i`;

type ScriptCall = (...args: (string | number)[]) => unknown;

/** A shard's share of a batch: positions in the batch, and their keys (built once per claim). */
interface ShardKeys {
  shard: number;
  indices: number[];
  keys: string[];
}

/** A claim as this window returns it: with its keys, so that confirming does not rebuild them. */
interface RedisDedupClaim extends DedupClaim {
  readonly groups: ShardKeys[];
}

/**
 * The dedup window in Redis: one key per event id holding the position of its first
 * sighting, expiring after the window. A batch is claimed in one round trip: its ids are
 * grouped by shard (`dedup-shards.ts`; one hash slot per shard, so this also works on Redis
 * Cluster) and each group is claimed by one script call doing `SET NX GET` per id; confirming
 * after the commit works the same way with `SET XX`.
 */
export class RedisDedupWindow implements DedupWindow {
  private readonly window: string;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    windowMs: number,
    private readonly shards: number = DEDUP_SHARDS,
  ) {
    this.window = String(windowMs);
    if (!('ingestDedupClaim' in redis)) {
      redis.defineCommand('ingestDedupClaim', { lua: CLAIM_LUA });
      redis.defineCommand('ingestDedupConfirm', { lua: CONFIRM_LUA });
    }
  }

  async claim(events: SourceEvents): Promise<DedupClaim> {
    const sightings = new Array<Sighting>(events.eventIds.length).fill('first');
    if (events.eventIds.length === 0) return { events, sightings, groups: [] } as RedisDedupClaim;
    const groups = this.shardKeys(events.eventIds);
    const pipeline = this.redis.pipeline();
    const call = (pipeline as unknown as Record<'ingestDedupClaim', ScriptCall>).ingestDedupClaim;
    const prefix = positionPrefix(events.topic, events.partition);
    for (const { indices, keys } of groups)
      call.apply(pipeline, this.scriptArgs(keys, indices, events, prefix, ''));
    const results = (await pipeline.exec()) ?? [];
    groups.forEach(({ indices }, g) => {
      const [err, reply] = results[g] ?? [new Error('dedup claim: no reply')];
      if (err) throw err;
      const seen = reply as (number | string)[];
      if (!Array.isArray(seen) || seen.length % 2 !== 0)
        throw new Error(`dedup claim: unexpected reply ${String(reply)}`);
      for (let p = 0; p < seen.length; p += 2) {
        const i = indices[(seen[p] as number) - 1]!;
        const own = sourcePosition(events.topic, events.partition, events.offsets[i]!);
        sightings[i] = classifySighting(String(seen[p + 1]), own);
      }
    });
    const claim: RedisDedupClaim = { events, sightings, groups };
    return claim;
  }

  async confirm(claim: DedupClaim): Promise<void> {
    const { events, sightings } = claim;
    const groups = (claim as Partial<RedisDedupClaim>).groups ?? this.shardKeys(events.eventIds);
    const pipeline = this.redis.pipeline();
    const call = (pipeline as unknown as Record<'ingestDedupConfirm', ScriptCall>).ingestDedupConfirm;
    const prefix = positionPrefix(events.topic, events.partition);
    for (const group of groups) {
      // Duplicates were not published by this batch: their marks belong to another position.
      let { indices, keys } = group;
      if (indices.some((i) => sightings[i] === 'duplicate')) {
        keys = keys.filter((_, k) => sightings[indices[k]!] !== 'duplicate');
        indices = indices.filter((i) => sightings[i] !== 'duplicate');
      }
      if (keys.length > 0)
        call.apply(pipeline, this.scriptArgs(keys, indices, events, prefix, COMMITTED_SUFFIX));
    }
    if (pipeline.length === 0) return;
    const results = (await pipeline.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
  }

  /** The batch's ids grouped by shard, with their keys. */
  private shardKeys(eventIds: readonly string[]): ShardKeys[] {
    return groupByShard(eventIds, this.shards).map(({ shard, indices }) => {
      const keyOf = dedupKey(this.keyPrefix, shard, ''); // the id follows the hash tag
      return { shard, indices, keys: indices.map((i) => keyOf + eventIds[i]!) };
    });
  }

  /** numkeys, the keys, then the window, mark prefix, offsets and mark suffix. */
  private scriptArgs(
    keys: string[],
    indices: number[],
    events: SourceEvents,
    prefix: string,
    suffix: string,
  ): (string | number)[] {
    const n = keys.length;
    const args = new Array<string | number>(n + 5);
    args[0] = n;
    let offsets = '';
    for (let k = 0; k < n; k++) {
      args[k + 1] = keys[k]!;
      offsets += k === 0 ? events.offsets[indices[k]!]! : `,${events.offsets[indices[k]!]!}`;
    }
    args[n + 1] = this.window;
    args[n + 2] = prefix;
    args[n + 3] = offsets;
    args[n + 4] = suffix;
    return args;
  }
}
