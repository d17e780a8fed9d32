import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command, Redis } from 'ioredis';
import { dedupBucketKey, dedupShard } from '../domain/dedup-shards';
import { RedisDedupWindow } from './redis-dedup-window';

/** A RESP array of bulk strings back into its strings. */
function parseRequest(bytes: Buffer): string[] {
  const text = bytes.toString('latin1');
  let pos = 0;
  const line = () => {
    const end = text.indexOf('\r\n', pos);
    const l = text.slice(pos, end);
    pos = end + 2;
    return l;
  };
  const count = Number(line().slice(1));
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const length = Number(line().slice(1));
    out.push(Buffer.from(text.slice(pos, pos + length), 'latin1').toString('utf8'));
    pos += length + 2;
  }
  assert.equal(pos, text.length, 'nothing after the request');
  return out;
}

/** Records the requests; refuses every call of the first `noscript` pipelines with NOSCRIPT. */
function fakeRedis(noscript: number) {
  const sent: string[][] = [];
  const loaded: string[] = [];
  let pipelines = 0;
  const redis = {
    pipeline() {
      const calls: Command[] = [];
      const refuse = pipelines++ < noscript;
      return {
        sendCommand: (c: Command) => calls.push(c),
        exec: async () =>
          calls.map((c) => {
            const args = parseRequest(c.toWritable({}) as Buffer);
            if (refuse) return [new Error('NOSCRIPT No matching script.'), null];
            sent.push(args);
            return [null, args[0] === 'EVALSHA' && args[2] !== '0' ? [] : 0];
          }),
      };
    },
    script: async (op: string, lua: string) => loaded.push(`${op} ${lua.length}`),
    eval: async (_lua: string, ...args: (string | number)[]) => sent.push(['EVAL', ...args.map(String)]),
  };
  return { redis: redis as unknown as Redis, sent, loaded };
}

test('dedup script calls carry the bucket keys, offsets, expiry, position prefix and ids as RESP', async () => {
  const { redis, sent, loaded } = fakeRedis(1);
  const now = 1_796_000_012_345; // bucket 59,866,667 of 30 s slices
  const window = new RedisDedupWindow(redis, 'p:dedup:', 60_000, undefined, () => now);
  const ids = ['evt-1', 'evt-2', 'évt-3', 'evt-4', '\ud800x'];
  const offsets = ['10', '11', '12', '13', '1234567890123'];
  const claim = await window.claim({ topic: 'raw', partition: 2, eventIds: ids, offsets });
  assert.deepEqual(claim.sightings, ['first', 'first', 'first', 'first', 'first']);
  assert.equal(loaded.length, 1, 'NOSCRIPT: the script loaded, the calls sent again');
  const byShard = new Map<number, number[]>();
  ids.forEach((id, i) => byShard.set(dedupShard(id), [...(byShard.get(dedupShard(id)) ?? []), i]));
  const bucket = Math.floor(now / 30_000);
  assert.deepEqual(
    sent.map((args) => args.slice(2)),
    [...byShard].map(([shard, indices]) => [
      '4',
      // the write bucket first, then the two before it and the one after
      ...[bucket, bucket - 2, bucket - 1, bucket + 1].map((b) => dedupBucketKey('p:dedup:', shard, b)),
      indices.map((i) => offsets[i]).join(','),
      String((bucket + 1) * 30_000 + 60_000),
      'raw/2/',
      // as UTF-8 bytes, as ioredis wrote them (a lone surrogate becomes U+FFFD)
      ...indices.map((i) => Buffer.from(ids[i]!).toString()),
    ]),
  );
  assert.ok(sent.every((args) => args[0] === 'EVALSHA' && /^[0-9a-f]{40}$/.test(args[1]!)));
  sent.length = 0;
  await window.confirm(claim);
  assert.deepEqual(
    sent,
    [['EVAL', '1', 'p:dedup:committed:raw/2/', '1234567890124', '60000']],
    "the confirm raises the partition's watermark past the last offset",
  );
});
