import { createHash } from 'node:crypto';
import { Command, type Pipeline, type Redis } from 'ioredis';
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

interface Script {
  lua: string;
  sha: string;
}
const script = (lua: string): Script => ({ lua, sha: createHash('sha1').update(lua).digest('hex') });
const CLAIM = script(CLAIM_LUA);
const CONFIRM = script(CONFIRM_LUA);

/**
 * A script call sent as the request bytes built here. ioredis otherwise takes the call as one
 * argument per key and turns each into RESP text (copying the argument list twice, measuring
 * and concatenating every key): 5-7% of ingest's CPU per event, for bytes that are simple to
 * write directly.
 */
class PrebuiltCall extends Command {
  constructor(private readonly request: Buffer) {
    super('evalsha', []);
  }

  override toWritable(): Buffer {
    return this.request;
  }
}

/**
 * A shard's share of a claim as RESP bulk strings, built once for the claim and its confirm:
 * its keys (`$<n>\r\n<key>\r\n` each) and its offsets joined by ','.
 */
interface ShardRequest {
  count: number;
  keys: Buffer;
  offsets: Buffer;
}

/** A claim as this window returns it: its confirm's requests are ready (the ids are not kept). */
interface RedisDedupClaim extends DedupClaim {
  readonly confirmRequests: Buffer[];
}

/**
 * The dedup window in Redis: one key per event id holding the position of its first
 * sighting, expiring after the window. A batch is claimed in one round trip: its ids are
 * grouped by shard (`dedup-shards.ts`; one hash slot per shard, so this also works on Redis
 * Cluster) and each group is claimed by one script call doing `SET NX GET` per id; confirming
 * after the commit works the same way with `SET XX`.
 */
export class RedisDedupWindow implements DedupWindow {
  private readonly windowArg: Buffer;
  private readonly keyPrefix: Buffer;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
    windowMs: number,
    private readonly shards: number = DEDUP_SHARDS,
  ) {
    this.windowArg = bulk(Buffer.from(String(windowMs)));
    this.keyPrefix = Buffer.from(keyPrefix, 'utf8');
  }

  async claim(events: SourceEvents): Promise<DedupClaim> {
    const sightings = new Array<Sighting>(events.eventIds.length).fill('first');
    if (events.eventIds.length === 0) return { sightings, confirmRequests: [] } as RedisDedupClaim;
    const groups = groupByShard(events.eventIds, this.shards);
    const prefix = this.prefixArg(events);
    const shardRequests = groups.map(({ shard, indices }) => this.shardRequest(shard, indices, events));
    const results = await this.send(
      shardRequests.map((r) => request(CLAIM, r, this.windowArg, prefix, EMPTY_SUFFIX)),
    );
    groups.forEach(({ indices }, g) => {
      const seen = results[g] as (number | string)[];
      if (!Array.isArray(seen) || seen.length % 2 !== 0)
        throw new Error(`dedup claim: unexpected reply ${String(seen)}`);
      for (let p = 0; p < seen.length; p += 2) {
        const i = indices[(seen[p] as number) - 1]!;
        const own = sourcePosition(events.topic, events.partition, events.offsets[i]!);
        sightings[i] = classifySighting(String(seen[p + 1]), own);
      }
    });
    const claim: RedisDedupClaim = {
      sightings,
      confirmRequests: this.confirmRequests(events, sightings, groups, prefix, shardRequests),
    };
    return claim;
  }

  async confirm(claim: DedupClaim): Promise<void> {
    const requests = (claim as Partial<RedisDedupClaim>).confirmRequests ?? this.confirmRequestsOf(claim);
    if (requests.length > 0) await this.send(requests);
  }

  /** The confirm of a claim this window did not make (it has only the events and sightings). */
  private confirmRequestsOf({ events, sightings }: DedupClaim): Buffer[] {
    if (!events) throw new Error('dedup confirm: the claim has neither its events nor its requests');
    const prefix = this.prefixArg(events);
    return this.confirmRequests(events, sightings, groupByShard(events.eventIds, this.shards), prefix);
  }

  /**
   * One confirm per shard of the events this batch published. Duplicates were not published
   * by it (their marks belong to another position), so a shard with any is written again
   * without them; otherwise the claim's own shard requests serve (`claimed`, when given).
   */
  private confirmRequests(
    events: SourceEvents,
    sightings: readonly Sighting[],
    groups: { shard: number; indices: number[] }[],
    prefix: Buffer,
    claimed?: ShardRequest[],
  ): Buffer[] {
    const out: Buffer[] = [];
    groups.forEach(({ shard, indices }, g) => {
      let shardRequest = claimed?.[g];
      if (!shardRequest || indices.some((i) => sightings[i] === 'duplicate')) {
        const published = indices.filter((i) => sightings[i] !== 'duplicate');
        if (published.length === 0) return;
        shardRequest = this.shardRequest(shard, published, events);
      }
      out.push(request(CONFIRM, shardRequest, this.windowArg, prefix, COMMITTED));
    });
    return out;
  }

  /** The mark prefix (the events' topic and partition) as a RESP argument. */
  private prefixArg(events: SourceEvents): Buffer {
    return bulk(Buffer.from(positionPrefix(events.topic, events.partition), 'utf8'));
  }

  /** The keys and offsets of the events at `indices` (all of one shard), as RESP. */
  private shardRequest(shard: number, indices: number[], events: SourceEvents): ShardRequest {
    const shardPrefix = Buffer.from(dedupKey('', shard, ''), 'utf8'); // the id follows the hash tag
    const keyHead = this.keyPrefix.length + shardPrefix.length;
    let keysBound = 0;
    let offsetsLength = indices.length - 1;
    for (const i of indices) {
      keysBound += 3 * events.eventIds[i]!.length + keyHead + 16;
      offsetsLength += events.offsets[i]!.length;
    }
    const keys = Buffer.allocUnsafe(keysBound);
    let pos = 0;
    for (const i of indices) {
      const id = events.eventIds[i]!;
      const idBytes = isAscii(id) ? id.length : Buffer.byteLength(id, 'utf8');
      keys[pos++] = DOLLAR;
      pos = writeAscii(keys, pos, String(keyHead + idBytes));
      keys[pos++] = CR;
      keys[pos++] = LF;
      pos += this.keyPrefix.copy(keys, pos);
      pos += shardPrefix.copy(keys, pos);
      pos = idBytes === id.length ? writeAscii(keys, pos, id) : pos + keys.write(id, pos, 'utf8');
      keys[pos++] = CR;
      keys[pos++] = LF;
    }
    // Offsets are decimal strings (ASCII)
    const head = `$${offsetsLength}\r\n`;
    const offsets = Buffer.allocUnsafe(head.length + offsetsLength + 2);
    let o = writeAscii(offsets, 0, head);
    for (let k = 0; k < indices.length; k++) {
      if (k > 0) offsets[o++] = COMMA;
      o = writeAscii(offsets, o, events.offsets[indices[k]!]!);
    }
    offsets[o] = CR;
    offsets[o + 1] = LF;
    return { count: indices.length, keys: keys.subarray(0, pos), offsets };
  }

  /**
   * Sends the script calls in one pipeline and returns their replies. A call refused with
   * NOSCRIPT (Redis restarted or flushed its scripts) did not run: the scripts are loaded
   * and that call is sent again.
   */
  private async send(requests: Buffer[]): Promise<unknown[]> {
    const replies = await this.exec(requests);
    const refused = replies.flatMap(([err], i) => (err && /NOSCRIPT/.test(err.message) ? [i] : []));
    if (refused.length > 0) {
      await Promise.all([CLAIM, CONFIRM].map((s) => this.redis.script('LOAD', s.lua)));
      const again = await this.exec(refused.map((i) => requests[i]!));
      refused.forEach((i, k) => (replies[i] = again[k]!));
    }
    return replies.map(([err, reply]) => {
      if (err) throw err;
      return reply;
    });
  }

  private async exec(requests: Buffer[]): Promise<[Error | null, unknown][]> {
    const pipeline = this.redis.pipeline() as unknown as Pipeline; // its class, with sendCommand
    for (const r of requests) pipeline.sendCommand(new PrebuiltCall(r));
    const results = (await pipeline.exec()) ?? [];
    return requests.map((_, i) => results[i] ?? [new Error('dedup: no reply'), null]);
  }
}

const DOLLAR = 0x24;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

/** A RESP bulk string of `bytes`. */
const bulk = (bytes: Buffer) =>
  Buffer.concat([Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n')]);
const EMPTY_SUFFIX = bulk(Buffer.alloc(0));
const COMMITTED = bulk(Buffer.from(COMMITTED_SUFFIX, 'utf8'));

/** `EVALSHA sha numkeys keys… window prefix offsets suffix` as one RESP request. */
function request(
  script: Script,
  shard: ShardRequest,
  window: Buffer,
  prefix: Buffer,
  suffix: Buffer,
): Buffer {
  const n = shard.count;
  const head = Buffer.from(
    `*${n + 7}\r\n$7\r\nEVALSHA\r\n$40\r\n${script.sha}\r\n$${String(n).length}\r\n${n}\r\n`,
  );
  return Buffer.concat([head, shard.keys, window, prefix, shard.offsets, suffix]);
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** Writes an ASCII string's characters as bytes; returns the position after them. */
function writeAscii(buf: Buffer, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[pos++] = s.charCodeAt(i);
  return pos;
}
