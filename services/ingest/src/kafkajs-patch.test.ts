import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

// patches/kafkajs@2.2.4.patch: kafkajs grouped a send's messages by partition by copying the
// partition's array for every message, O(n^2): 24 ms for a 7,500-message transaction of ingest,
// 7.8 s for 100,000.
const N = 100_000;
type Group = (args: {
  topic: string;
  partitionMetadata: { partitionId: number }[];
  messages: { key: string }[];
  partitioner: (args: { message: { key: string } }) => number;
}) => Record<string, { key: string }[]>;
const groupMessagesPerPartition = createRequire(require.resolve('kafkajs'))(
  './src/producer/groupMessagesPerPartition',
) as Group;

test('kafkajs groups a large send by partition in linear time, keeping message order', () => {
  const partitionMetadata = Array.from({ length: 6 }, (_, partitionId) => ({ partitionId }));
  const messages = Array.from({ length: N }, (_, i) => ({ key: String(i) }));
  const started = process.hrtime.bigint();
  const grouped = groupMessagesPerPartition({
    topic: 't',
    partitionMetadata,
    messages,
    partitioner: ({ message }) => Number(message.key) % 6,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.deepEqual(Object.keys(grouped).sort(), ['0', '1', '2', '3', '4', '5']);
  for (const [partition, list] of Object.entries(grouped)) {
    assert.equal(list.length, Math.ceil((N - Number(partition)) / 6));
    list.forEach((m, i) => assert.equal(Number(m.key), i * 6 + Number(partition), 'in send order'));
  }
  assert.ok(ms < 1000, `grouping ${N} messages took ${ms.toFixed(0)} ms`);
  assert.deepEqual(
    groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner: () => 0 }),
    {},
  );
});

// The same patch makes producing cheaper (encoder buffers not zero-filled, varints written in
// place, a partition's records written into one buffer, CRC32C eight bytes at a time, murmur2
// without BigInt) and reading (offsets and timestamps without BigInt). The bytes must not change.
const kafkajsFile = createRequire(require.resolve('kafkajs'));
const Encoder = kafkajsFile('./src/protocol/encoder') as any;
const Decoder = kafkajsFile('./src/protocol/decoder') as any;
const Long = kafkajsFile('./src/utils/long') as any;
const ProduceV3 = kafkajsFile('./src/protocol/requests/produce/v3/request') as (args: object) => {
  encode: () => Promise<{ buffer: Buffer }>;
};
const decodeRecordBatch = kafkajsFile('./src/protocol/recordBatch/v0/decoder') as (
  d: unknown,
) => Promise<any>;
const crc32C = kafkajsFile('./src/protocol/recordBatch/crc32C') as (b: Buffer) => number;
const murmur2 = kafkajsFile('./src/producer/partitioners/default/murmur2') as (k: Buffer | string) => number;

test('kafkajs murmur2 gives the Java client’s values (so keyed partitions do not move)', () => {
  // Kafka's own UtilsTest vectors
  const cases: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [key, hash] of cases) {
    assert.equal(murmur2(Buffer.from(key)), hash, key);
    assert.equal(murmur2(key), hash, key);
  }
});

test('kafkajs CRC32C matches a byte-at-a-time reference', () => {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    return c >>> 0;
  });
  const reference = (b: Buffer) => {
    let crc = 0xffffffff;
    for (const byte of b) crc = table[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
    return (crc ^ 0xffffffff) >>> 0;
  };
  assert.equal(crc32C(Buffer.from('123456789')), 0xe3069283);
  for (let n = 0; n < 300; n++) {
    const b = Buffer.from(Array.from({ length: n * 7 }, (_, i) => (i * 131 + n * 17) & 0xff));
    assert.equal(crc32C(b.subarray(n % 5)), reference(b.subarray(n % 5)));
  }
});

test('kafkajs varlongs round-trip at every width and sign', () => {
  const values = [0, 1, -1, 63, -64, 64, -65, 2 ** 31, -(2 ** 31) - 1, 2 ** 48 + 3, -(2 ** 50), 2 ** 51 - 1];
  for (let bits = 0; bits < 63; bits += 3) values.push(2 ** bits, -(2 ** bits) + 1);
  for (const v of values) {
    for (const input of [v, String(v)]) {
      const bytes = new Encoder().writeVarLong(input).buffer as Buffer;
      assert.equal(bytes.length, Encoder.sizeOfVarLong(input), `size of ${input}`);
      assert.equal(new Decoder(bytes).readVarLong().toString(), BigInt(input).toString(), `value ${input}`);
      const small = new Decoder(bytes).readSmallVarLong();
      if (bytes.length <= 7) assert.equal(small, Number(input));
      else assert.equal(small, null);
    }
  }
  // the Long path for values past 2^51
  const big = Long.fromValue('-9007199254740993');
  assert.equal(
    new Decoder(new Encoder().writeVarLong(big).buffer).readVarLong().toString(),
    '-9007199254740993',
  );
});

test('kafkajs produce requests decode back to the records sent (keys, values, headers, times, CRC)', async () => {
  const now = 1_764_330_000_000;
  const messages = Array.from({ length: 2_000 }, (_, i) => ({
    key: i % 7 === 0 ? null : i % 2 ? `ключ-${i}` : Buffer.from(`k${i}`),
    value: i % 11 === 0 ? null : Buffer.alloc(i % 700, i & 0xff),
    headers: [{}, { 'content-type': 'application/x-protobuf' }, { a: ['1', '22'], b: Buffer.from('zz') }][
      i % 3
    ]!,
    timestamp: i % 4 === 1 ? now - 2 ** 40 + i : i % 4 === 2 ? String(now + i * 1000) : undefined,
  }));
  const request = ProduceV3({
    acks: -1,
    timeout: 30_000,
    transactionalId: 'tx',
    producerId: Long.fromNumber(77),
    producerEpoch: 3,
    topicData: [{ topic: 't', partitions: [{ partition: 4, firstSequence: 9, messages }] }],
  });
  const realNow = Date.now;
  Date.now = () => now;
  let bytes: Buffer;
  try {
    bytes = (await request.encode()).buffer;
  } finally {
    Date.now = realNow;
  }
  const d = new Decoder(bytes);
  assert.equal(d.readString(), 'tx');
  d.readInt16();
  d.readInt32();
  assert.equal(d.readInt32(), 1);
  assert.equal(d.readString(), 't');
  assert.equal(d.readInt32(), 1);
  assert.equal(d.readInt32(), 4);
  const size = d.readInt32();
  assert.equal(d.offset + size, bytes.length);
  // CRC32C covers the batch from its attributes (offset 21 of the batch) to its end
  const batchBytes = bytes.subarray(d.offset);
  assert.equal(batchBytes.readUInt32BE(17), crc32C(batchBytes.subarray(21)));
  const batch = await decodeRecordBatch(d);
  assert.equal(batch.records.length, messages.length);
  assert.equal(batch.producerId, '77');
  assert.equal(batch.firstSequence, 9);
  assert.equal(batch.inTransaction, true);
  const firstTimestamp = Math.min(...messages.map((m) => (m.timestamp == null ? now : Number(m.timestamp))));
  batch.records.forEach((r: any, i: number) => {
    const m = messages[i]!;
    assert.equal(r.offset, String(i));
    assert.equal(r.timestamp, String(m.timestamp == null ? now : Number(m.timestamp)));
    assert.deepEqual(r.key, m.key === null ? null : Buffer.from(m.key));
    assert.deepEqual(r.value, m.value);
    const headers = Object.fromEntries(
      Object.entries(m.headers).map(([k, v]) => [
        k,
        Array.isArray(v) ? v.map((x) => Buffer.from(x)) : Buffer.from(v),
      ]),
    );
    assert.deepEqual(r.headers, headers);
  });
  assert.ok(firstTimestamp < now);
});

// The same patch writes an uncompressed produce request into one buffer of its exact size (the
// nested encoders copied every record five more times into fresh buffers, and V8 answered that
// much new off-heap memory with extra scavenges: docs/benchmarks.md, Ingest, 2026-12-05).
const Record = kafkajsFile('./src/protocol/recordBatch/record/v0') as {
  writeRecord: (encoder: unknown, record: object) => void;
};
const { RecordBatch } = kafkajsFile('./src/protocol/recordBatch/v0') as {
  RecordBatch: (args: object) => Promise<{ size: () => number }>;
};

test('kafkajs encodes an uncompressed produce request in one exact buffer, as the nested encoders did', async () => {
  const now = 1_764_900_000_000;
  const messagesOf = (seed: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      key: i % 5 === 0 ? null : Buffer.from(`user-${seed}-${i}`),
      value: Buffer.alloc(100 + ((i * seed) % 300), i & 0xff),
      headers: i % 4 === 0 ? { 'content-type': 'application/json', x: ['1', 'é'] } : {},
      timestamp: i % 3 === 0 ? String(now - 5_000 + i) : undefined,
    }));
  const topicData = [
    {
      topic: 'clean',
      partitions: [
        { partition: 0, firstSequence: 0, messages: messagesOf(1, 3_000) },
        { partition: 5, firstSequence: 70_000, messages: messagesOf(2, 1) },
      ],
    },
    { topic: 'dead-letter-ü', partitions: [{ partition: 2, firstSequence: 4, messages: messagesOf(3, 40) }] },
  ];
  for (const transactionalId of ['ingest-0', null]) {
    const args = { acks: -1, timeout: 30_000, producerId: Long.fromNumber(12), producerEpoch: 2 };
    // The same request as the nested encoders build it (still the path of compressed batches)
    const reference = new Encoder()
      .writeString(transactionalId)
      .writeInt16(args.acks)
      .writeInt32(args.timeout)
      .writeInt32(topicData.length);
    for (const { topic, partitions } of topicData) {
      reference.writeString(topic).writeInt32(partitions.length);
      for (const { partition, firstSequence, messages } of partitions) {
        // kafkajs: the batch's first and largest of the messages' own times (each batch has some)
        const stamped = messages.filter((m) => m.timestamp != null).map((m) => Number(m.timestamp));
        const firstTimestamp = Math.min(...stamped);
        const times = messages.map((m) => (m.timestamp == null ? now : Number(m.timestamp)));
        const records = new Encoder();
        messages.forEach((m, i) =>
          Record.writeRecord(records, { ...m, offsetDelta: i, timestampDelta: times[i]! - firstTimestamp }),
        );
        const batch = await RecordBatch({
          encodedRecords: { count: messages.length, encoder: records },
          firstTimestamp,
          maxTimestamp: Math.max(...stamped),
          producerId: args.producerId,
          producerEpoch: args.producerEpoch,
          firstSequence,
          transactional: transactionalId !== null,
          lastOffsetDelta: messages.length - 1,
        });
        reference.writeInt32(partition).writeInt32(batch.size()).writeEncoder(batch);
      }
    }

    const realNow = Date.now;
    const allocUnsafe = Buffer.allocUnsafe;
    const large: number[] = [];
    Date.now = () => now;
    Buffer.allocUnsafe = (size: number) => {
      if (size > 4096) large.push(size);
      return allocUnsafe(size);
    };
    let encoded: { buffer: Buffer };
    try {
      encoded = await ProduceV3({ ...args, transactionalId, topicData }).encode();
    } finally {
      Date.now = realNow;
      Buffer.allocUnsafe = allocUnsafe;
    }
    assert.deepEqual(encoded.buffer, reference.buffer, `transactional id ${transactionalId}`);
    assert.deepEqual(large, [encoded.buffer.length], 'one buffer, of the request’s size');
  }

  // Compressed batches still take the nested encoders
  const messages = messagesOf(4, 200);
  const gzip = await ProduceV3({
    acks: -1,
    timeout: 30_000,
    compression: 1, // GZIP
    topicData: [{ topic: 't', partitions: [{ partition: 1, firstSequence: 0, messages }] }],
  }).encode();
  const d = new Decoder(gzip.buffer);
  // transactional id, acks, timeout, topics, topic, partitions, partition, record set size
  for (const read of ['readString', 'readInt16', 'readInt32', 'readInt32', 'readString'] as const) d[read]();
  for (let i = 0; i < 3; i++) d.readInt32();
  const batch = await decodeRecordBatch(d);
  assert.deepEqual(
    batch.records.map((r: any) => r.value),
    messages.map((m) => m.value),
  );
});

test('kafkajs writes short ASCII strings itself and copies buffers with the same bytes as before', () => {
  // Reference: varint of the UTF-8 length (zigzag), then the UTF-8 bytes, as unpatched kafkajs
  const varint = (n: number) => {
    const out: number[] = [];
    let z = n >= 0 ? n * 2 : -n * 2 - 1;
    while (z >= 128) {
      out.push((z % 128) | 128);
      z = Math.floor(z / 128);
    }
    out.push(z);
    return Buffer.from(out);
  };
  const reference = (s: string) => Buffer.concat([varint(Buffer.byteLength(s)), Buffer.from(s, 'utf8')]);
  const strings = [
    '',
    'a',
    'content-type',
    'application/x-protobuf',
    '0123456789abcdef0123456789abcdef',
    'x'.repeat(63),
    'x'.repeat(64),
    'x'.repeat(65),
    'y'.repeat(300),
    'é',
    `${'a'.repeat(40)}ü`,
    'ключ',
    '\u007f\u0080',
    '\ud800',
    `${'b'.repeat(10)}\udc00`,
    '😀',
  ];
  for (const s of strings) {
    // writes that land at the end of a full buffer make it grow
    for (const before of [0, 3, 509, 511]) {
      const pad = Buffer.alloc(before, 7);
      const expected = Buffer.concat([pad, reference(s)]);
      assert.deepEqual(new Encoder().writeBuffer(pad).writeVarIntString(s).buffer, expected, `string ${s}`);
      assert.deepEqual(new Encoder().writeBuffer(pad).writeVarIntBytes(s).buffer, expected, `bytes ${s}`);
      const asBuffer = Buffer.from(s, 'utf8');
      assert.deepEqual(
        new Encoder().writeBuffer(pad).writeVarIntBytes(asBuffer).buffer,
        expected,
        `buffer ${s}`,
      );
    }
    assert.equal(Encoder.byteLengthOf(s), Buffer.byteLength(s), `length of ${s}`);
    assert.equal(Encoder.sizeOfVarIntBytes(s), reference(s).length, `size of ${s}`);
  }
  assert.throws(() => Encoder.byteLengthOf(null), TypeError, 'a null header value fails as before');
});

test('kafkajs batches drop messages below the fetched offset, comparing numbers where exact', () => {
  const Batch = kafkajsFile('./src/consumer/batch') as new (
    topic: string,
    fetchedOffset: string,
    partitionData: object,
  ) => { messages: { offset: string }[] };
  const offsets = [
    '5',
    '6',
    '7',
    '9007199254740991',
    '9007199254740992',
    '9007199254740993',
    '18446744073709',
  ];
  for (const fetched of ['0', '6', '8', '9007199254740992', '9007199254740993', '9007199254740994']) {
    const batch = new Batch('t', fetched, {
      partition: 0,
      highWatermark: '0',
      abortedTransactions: [],
      messages: offsets.map((offset) => ({ offset, isControlRecord: false })),
    });
    assert.deepEqual(
      batch.messages.map((m) => m.offset),
      offsets.filter((o) => BigInt(o) >= BigInt(fetched)),
      `fetched from ${fetched}`,
    );
  }
});

// patches/kafkajs@2.2.4.patch: a request queue with nothing pending scheduled a check anyway,
// setTimeout(<negative>), whose check scheduled the next: a wake-up every millisecond per
// connection for ever (tulios/kafkajs#1556; an idle producer used 32 ms of CPU a second).
test('kafkajs request queues schedule no check while idle, and still send throttled requests', async () => {
  type Queue = {
    push(request: { entry: object; expectResponse: boolean; sendRequest: () => void }): void;
    fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void;
    maybeThrottle(ms: number): void;
    destroy(): void;
    throttleCheckTimeoutId: unknown;
  };
  const RequestQueue = createRequire(require.resolve('kafkajs'))('./src/network/requestQueue') as new (
    options: object,
  ) => Queue;
  const logger = { debug: () => undefined, warn: () => undefined, error: () => undefined };
  const queue = new RequestQueue({ maxInFlightRequests: 1, requestTimeout: 30_000, logger });
  const sent: number[] = [];
  const done: number[] = [];
  const push = (correlationId: number) =>
    queue.push({
      entry: { correlationId, resolve: () => done.push(correlationId), reject: () => undefined },
      expectResponse: true,
      sendRequest: () => sent.push(correlationId),
    });
  const fulfill = (correlationId: number) =>
    queue.fulfillRequest({ correlationId, payload: Buffer.alloc(0), size: 0 });

  push(1);
  push(2); // one in flight at most: waits
  assert.deepEqual(sent, [1]);
  fulfill(1);
  assert.deepEqual(sent, [1, 2], 'a response sends the next pending request');
  fulfill(2);
  assert.deepEqual(done, [1, 2]);
  await new Promise((r) => setTimeout(r, 30)); // the check scheduled while 2 waited runs once
  assert.equal(queue.throttleCheckTimeoutId, null, 'idle: no further check scheduled');

  queue.maybeThrottle(30); // the broker asked to wait
  push(3);
  assert.deepEqual(sent, [1, 2]);
  await new Promise((r) => setTimeout(r, 80));
  assert.deepEqual(sent, [1, 2, 3], 'sent once the throttle time is over');
  fulfill(3);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(queue.throttleCheckTimeoutId, null, 'idle again: no check scheduled');
  queue.destroy();
});

// The same patch frames a request as two buffers (size and header, then the body as encoded)
// written together, instead of copying the body twice into larger buffers: the bytes on the
// wire must be the frame the protocol defines.
const createRequest = kafkajsFile('./src/protocol/request') as (args: {
  correlationId: number;
  clientId: string | null;
  request: { apiKey: number; apiVersion: number; encode: () => Promise<unknown> };
}) => Promise<{ buffers: Buffer[]; size: number }>;

test('kafkajs frames a request as size, api key, version, correlation id, client id, then the body', async () => {
  const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
  for (const clientId of ['ingest-é', null]) {
    const request = await createRequest({
      correlationId: 0x01020304,
      clientId,
      request: { apiKey: 0, apiVersion: 3, encode: async () => new Encoder().writeBytes(body) },
    });
    const id = clientId === null ? Buffer.alloc(0) : Buffer.from(clientId, 'utf8');
    const header = Buffer.alloc(10 + id.length);
    header.writeInt16BE(0, 0);
    header.writeInt16BE(3, 2);
    header.writeInt32BE(0x01020304, 4);
    header.writeInt16BE(clientId === null ? -1 : id.length, 8);
    id.copy(header, 10);
    const encodedBody = new Encoder().writeBytes(body).buffer as Buffer;
    const frameBody = Buffer.concat([header, encodedBody]);
    const size = Buffer.alloc(4);
    size.writeInt32BE(frameBody.length);
    const wire = Buffer.concat(request.buffers);
    assert.deepEqual(wire, Buffer.concat([size, frameBody]));
    assert.equal(request.size, wire.length);
  }
});
