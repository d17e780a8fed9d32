import { createHash } from 'node:crypto';
import { Command, type Pipeline, type Redis } from 'ioredis';
import {
  classifySighting,
  positionPrefix,
  sourcePosition,
  watermarkAfter,
  type DedupClaim,
  type DedupWindow,
  type Sighting,
  type SourceEvents,
} from '../domain/dedup';
import { DEDUP_SHARDS, dedupKey, groupByShard } from '../domain/dedup-shards';

/**
 * `SET key mark PX window NX GET` per key of a shard. ARGV = window ms, mark prefix, the keys'
 * offsets joined by ',' (in KEYS order): KEYS[i]'s mark is prefix .. i-th offset. The marks are
 * put together in Redis so the client sends one offset per event instead of a whole position
 * string (building and writing those was a good part of ingest's CPU per event). Replies only
 * for keys that already held a mark, as pairs (index in KEYS, previous mark): nearly always an
 * empty reply.
 */
const CLAIM_LUA = `
local window, prefix = ARGV[1], ARGV[2]
local seen = {}
local i = 0
for offset in string.gmatch(ARGV[3], '[^,]+') do
  i = i + 1
  local previous = redis.call('SET', KEYS[i], prefix .. offset, 'PX', window, 'NX', 'GET')
  if previous then
    seen[#seen + 1] = i
    seen[#seen + 1] = previous
  end
end
if i ~= #KEYS then return redis.error_reply('dedup claim: ' .. #KEYS .. ' keys, ' .. i .. ' offsets') end
return seen`;

/**
 * Raises a source partition's committed watermark (KEYS[1]) to ARGV[1] unless it is higher
 * already (a late confirm of another replica must not lower it), and keeps it for the window
 * (ARGV[2] ms) from now: it must outlive the marks it speaks for.
 */
const RAISE_WATERMARK_LUA = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1`;

interface Script {
  lua: string;
  sha: string;
}
const script = (lua: string): Script => ({ lua, sha: createHash('sha1').update(lua).digest('hex') });
const CLAIM = script(CLAIM_LUA);

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
 * A shard's share of a claim as RESP bulk strings: its keys (`$<n>\r\n<key>\r\n` each) and its
 * offsets joined by ','.
 */
interface ShardRequest {
  count: number;
  keys: Buffer;
  offsets: Buffer;
}

/**
 * The dedup window in Redis: one key per event id holding the position of its first
 * sighting, expiring after the window. A batch is claimed in one round trip: its ids are
 * grouped by shard (`dedup-shards.ts`; one hash slot per shard, so this also works on Redis
 * Cluster) and each group is claimed by one script call doing `SET NX GET` per id. Confirming
 * after the commit writes one key per source partition, its committed watermark, not one per
 * event (rewriting every mark cost Redis as much CPU as the claim, 2-3 s per 1,000,000 events).
 */
export class RedisDedupWindow implements DedupWindow {
  private readonly windowArg: Buffer;
  private readonly keyPrefix: Buffer;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefixText: string,
    private readonly windowMs: number,
    private readonly shards: number = DEDUP_SHARDS,
  ) {
    this.windowArg = bulk(Buffer.from(String(windowMs)));
    this.keyPrefix = Buffer.from(keyPrefixText, 'utf8');
  }

  async claim(events: SourceEvents): Promise<DedupClaim> {
    const sightings = new Array<Sighting>(events.eventIds.length).fill('first');
    const watermark = watermarkAfter(events);
    if (events.eventIds.length === 0) return { sightings, watermark };
    const groups = groupByShard(events.eventIds, this.shards);
    const prefix = this.prefixArg(events);
    const results = await this.send(
      groups.map(({ shard, indices }) =>
        request(CLAIM, this.shardRequest(shard, indices, events), this.windowArg, prefix),
      ),
    );
    const seen: { index: number; mark: string; own: string }[] = [];
    groups.forEach(({ indices }, g) => {
      const pairs = results[g] as (number | string)[];
      if (!Array.isArray(pairs) || pairs.length % 2 !== 0)
        throw new Error(`dedup claim: unexpected reply ${String(pairs)}`);
      for (let p = 0; p < pairs.length; p += 2) {
        const index = indices[(pairs[p] as number) - 1]!;
        const own = sourcePosition(events.topic, events.partition, events.offsets[index]!);
        seen.push({ index, mark: String(pairs[p + 1]), own });
      }
    });
    // The watermark matters only for marks of the events' own positions (rare: a batch read again).
    const committedBelow = seen.some((s) => s.mark === s.own) ? await this.committedBelow(events) : 0n;
    for (const { index, mark, own } of seen) sightings[index] = classifySighting(mark, own, committedBelow);
    return { sightings, watermark };
  }

  async confirm({ watermark }: DedupClaim): Promise<void> {
    if (!watermark) return;
    await this.redis.eval(
      RAISE_WATERMARK_LUA,
      1,
      this.watermarkKey(watermark.topic, watermark.partition),
      String(watermark.nextOffset),
      this.windowMs,
    );
  }

  /** The offset below which the events' source partition is committed (0 when none is known). */
  private async committedBelow({ topic, partition }: SourceEvents): Promise<bigint> {
    const value = await this.redis.get(this.watermarkKey(topic, partition));
    return value === null ? 0n : BigInt(value);
  }

  private watermarkKey(topic: string, partition: number): string {
    return watermarkKey(this.keyPrefixText, topic, partition);
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
   * Sends the claim's script calls in one pipeline and returns their replies. A call refused
   * with NOSCRIPT (Redis restarted or flushed its scripts) did not run: the script is loaded
   * and that call is sent again.
   */
  private async send(requests: Buffer[]): Promise<unknown[]> {
    const replies = await this.exec(requests);
    const refused = replies.flatMap(([err], i) => (err && /NOSCRIPT/.test(err.message) ? [i] : []));
    if (refused.length > 0) {
      await this.redis.script('LOAD', CLAIM.lua);
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

/**
 * The key of a source partition's committed watermark (no hash tag: it is read on its own).
 * Event ids' keys follow the prefix with `{`, so the two never meet.
 */
export const watermarkKey = (keyPrefix: string, topic: string, partition: number) =>
  `${keyPrefix}committed:${positionPrefix(topic, partition)}`;

const DOLLAR = 0x24;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

/** A RESP bulk string of `bytes`. */
const bulk = (bytes: Buffer) =>
  Buffer.concat([Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n')]);

/** `EVALSHA sha numkeys keys… window prefix offsets` as one RESP request. */
function request(script: Script, shard: ShardRequest, window: Buffer, prefix: Buffer): Buffer {
  const n = shard.count;
  const head = Buffer.from(
    `*${n + 6}\r\n$7\r\nEVALSHA\r\n$40\r\n${script.sha}\r\n$${String(n).length}\r\n${n}\r\n`,
  );
  return Buffer.concat([head, shard.keys, window, prefix, shard.offsets]);
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
