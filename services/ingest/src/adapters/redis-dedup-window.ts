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
import { dedupBuckets, type DedupBuckets } from '../domain/dedup-buckets';
import { DEDUP_SHARDS, dedupBucketKey, dedupShard, groupByShard } from '../domain/dedup-shards';

/**
 * Claims one shard's ids in its bucket hashes. KEYS = the write bucket, then the buckets to
 * look in (all of the shard's hash slot). ARGV = the ids' offsets joined by ',', the write
 * bucket's expiry (Unix ms), the mark prefix, then the ids. An id already held by any bucket
 * keeps its mark (the first sighting's); every other id gets prefix .. its offset in the write
 * bucket. Each bucket is read with one HMGET and written with one HSET for the whole call (a
 * `SET NX GET` per id, the layout before, cost Redis about twice the CPU per event). Replies
 * only for ids that already held a mark, as pairs (index among the ids, previous mark): nearly
 * always an empty reply. Chunks of 4,000 keep unpack within Lua's stack.
 */
const CLAIM_LUA = `
local expireAt, prefix = ARGV[2], ARGV[3]
local n = #ARGV - 3
local CHUNK = 4000
local found = {}
for k = 1, #KEYS do
  if redis.call('EXISTS', KEYS[k]) == 1 then
    for first = 1, n, CHUNK do
      local marks = redis.call('HMGET', KEYS[k], unpack(ARGV, first + 3, math.min(first + CHUNK - 1, n) + 3))
      for j = 1, #marks do
        local i = first + j - 1
        if marks[j] and not found[i] then found[i] = marks[j] end
      end
    end
  end
end
local seen, writes, claimed = {}, {}, {}
local i = 0
for offset in string.gmatch(ARGV[1], '[^,]+') do
  i = i + 1
  local id = ARGV[i + 3]
  local previous = found[i] or claimed[id]
  if previous then
    seen[#seen + 1] = i
    seen[#seen + 1] = previous
  else
    local mark = prefix .. offset
    claimed[id] = mark
    writes[#writes + 1] = id
    writes[#writes + 1] = mark
  end
end
if i ~= n then return redis.error_reply('dedup claim: ' .. n .. ' ids, ' .. i .. ' offsets') end
for first = 1, #writes, CHUNK do
  redis.call('HSET', KEYS[1], unpack(writes, first, math.min(first + CHUNK - 1, #writes)))
end
if #writes > 0 then redis.call('PEXPIREAT', KEYS[1], expireAt) end
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
 * A shard's share of a claim as RESP bulk strings: its ids (`$<n>\r\n<id>\r\n` each) and its
 * offsets joined by ','.
 */
interface ShardRequest {
  count: number;
  ids: Buffer;
  offsets: Buffer;
}

/**
 * The dedup window in Redis. Event ids are spread over shards (`dedup-shards.ts`) and cut in
 * time into buckets of half a window (`dedup-buckets.ts`): one hash per shard and bucket
 * (`<prefix>b{<shard>}:<bucket>`, field = event id, value = the position of its first
 * sighting), expiring as a whole. The hash tag puts a shard's buckets in one hash slot, so a
 * batch is claimed in one round trip with one script call per shard present, also on Redis
 * Cluster. Confirming after the commit writes one key per source partition, its committed
 * watermark, not one per event.
 */
export class RedisDedupWindow implements DedupWindow {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefixText: string,
    private readonly windowMs: number,
    private readonly shards: number = DEDUP_SHARDS,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(events: SourceEvents): Promise<DedupClaim> {
    const sightings = new Array<Sighting>(events.eventIds.length).fill('first');
    const watermark = watermarkAfter(events);
    if (events.eventIds.length === 0) return { sightings, watermark };
    const groups = groupByShard(events.eventIds, this.shards);
    const buckets = dedupBuckets(this.now(), this.windowMs);
    const tail = Buffer.concat([
      bulk(Buffer.from(String(buckets.expireAt))),
      bulk(Buffer.from(positionPrefix(events.topic, events.partition), 'utf8')),
    ]);
    const results = await this.send(
      groups.map(({ shard, indices }) =>
        request(this.bucketKeys(shard, buckets), this.shardRequest(indices, events), tail),
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

  /**
   * A warning for operators when Redis frees expired keys on its main thread: a bucket
   * expires as one hash of every id of half a window and a shard (millions at high volume),
   * and freeing it there stalls every client. Undefined when the setting is right, or when
   * Redis does not let us read its configuration (managed services often refuse CONFIG).
   */
  async serverWarning(): Promise<string | undefined> {
    const reply = (await this.redis.config('GET', 'lazyfree-lazy-expire').catch(() => [])) as string[];
    return reply[1] === 'no'
      ? 'Redis has lazyfree-lazy-expire no: an expiring dedup bucket (one hash per shard and half window) is freed on its main thread and stalls it; set lazyfree-lazy-expire yes'
      : undefined;
  }

  /**
   * What the window holds for each id now (the first sighting's position, or null), without
   * claiming anything: for operators and tests.
   */
  async peek(eventIds: readonly string[]): Promise<(string | null)[]> {
    const buckets = dedupBuckets(this.now(), this.windowMs);
    return Promise.all(
      eventIds.map(async (id) => {
        const shard = dedupShard(id, this.shards);
        for (const bucket of [buckets.write, ...buckets.read]) {
          const mark = await this.redis.hget(dedupBucketKey(this.keyPrefixText, shard, bucket), id);
          if (mark !== null) return mark;
        }
        return null;
      }),
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

  /** The shard's write bucket key, then the keys of the buckets to look in, as RESP. */
  private bucketKeys(shard: number, buckets: DedupBuckets): Buffer[] {
    return [buckets.write, ...buckets.read].map((b) =>
      bulk(Buffer.from(dedupBucketKey(this.keyPrefixText, shard, b), 'utf8')),
    );
  }

  /** The ids and offsets of the events at `indices` (all of one shard), as RESP. */
  private shardRequest(indices: number[], events: SourceEvents): ShardRequest {
    let idsBound = 0;
    let offsetsLength = indices.length - 1;
    for (const i of indices) {
      idsBound += 3 * events.eventIds[i]!.length + 16;
      offsetsLength += events.offsets[i]!.length;
    }
    const ids = Buffer.allocUnsafe(idsBound);
    let pos = 0;
    for (const i of indices) {
      const id = events.eventIds[i]!;
      const idBytes = isAscii(id) ? id.length : Buffer.byteLength(id, 'utf8');
      ids[pos++] = DOLLAR;
      pos = writeAscii(ids, pos, String(idBytes));
      ids[pos++] = CR;
      ids[pos++] = LF;
      pos = idBytes === id.length ? writeAscii(ids, pos, id) : pos + ids.write(id, pos, 'utf8');
      ids[pos++] = CR;
      ids[pos++] = LF;
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
    return { count: indices.length, ids: ids.subarray(0, pos), offsets };
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

/** `EVALSHA sha numkeys keys… offsets expireAt prefix ids…` as one RESP request. */
function request(keys: Buffer[], shard: ShardRequest, tail: Buffer): Buffer {
  const head = Buffer.from(
    `*${3 + keys.length + 3 + shard.count}\r\n$7\r\nEVALSHA\r\n$40\r\n${CLAIM.sha}\r\n$${String(keys.length).length}\r\n${keys.length}\r\n`,
  );
  return Buffer.concat([head, ...keys, shard.offsets, tail, shard.ids]);
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
