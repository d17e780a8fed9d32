import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { type Producer } from 'kafkajs';
import Redis from 'ioredis';
import {
  CatalogItem,
  ClickstreamEvent,
  EventType,
  Impression,
  ModelPublished,
  RecommenderClient,
  topicNames,
  type RankedItems,
  type RecommendRequest,
  type SearchRequest,
  type SimilarItemsRequest,
} from '@reco/contracts';
import { ensureTopics, pseudonymize } from '@reco/platform';
import { decodeUserState, userKey, writeSyntheticModel } from '@reco/realtime';
import {
  getTestInfra,
  readTopic,
  spawnService,
  uniquePrefix,
  type TestInfra,
  type TestService,
  testKafka,
  inputProducer,
} from '@reco/testing';

const REPO = join(__dirname, '..', '..', '..');
const N = 60;
const CATS = [
  ['Shoes', 'Running'],
  ['Shirts', 'Casual'],
  ['Hats', 'Summer'],
];
const COLORS = ['red', 'blue', 'green', 'black'];
const KINDS = ['shoe', 'shirt', 'hat'];
const OWN_REDIS_PORT = 6390 + Math.floor(Math.random() * 50);

let infra: TestInfra;
let redis: Redis;
let prefix: string;
let topics: ReturnType<typeof topicNames>;
let producer: Producer;
let features: TestService;
let inference: TestService;
let client: RecommenderClient;

function startService(name: 'features' | 'inference', env: Record<string, string>): TestService {
  return spawnService(join(REPO, 'services', name, 'dist', 'main.js'), {
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    REDIS_URL: infra.redisUrl,
    RECO_TOPIC_PREFIX: prefix,
    RECO_TOPIC_PARTITIONS: '3',
    REDIS_KEY_PREFIX: prefix,
    FEATURES_GROUP_ID: `${prefix}features`,
    INFERENCE_GROUP_ID: `${prefix}inference`,
    FEATURES_POPULARITY_REFRESH_MS: '300',
    INFERENCE_POPULARITY_REFRESH_MS: '300',
    FEATURES_SESSION_TIMEOUT_MS: '6000',
    GRPC_PORT: '0',
    GRPC_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ...env,
  });
}

async function stopService(s: TestService | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null) return;
  s.child.kill('SIGTERM');
  assert.equal(await s.exited, 0, 'graceful shutdown exits 0');
}

const call = <Req>(method: 'recommend' | 'similarItems' | 'search', req: Req, c = client, timeoutMs = 5000) =>
  new Promise<RankedItems>((resolve, reject) =>
    (
      c[method] as unknown as (
        r: Req,
        m: grpc.Metadata,
        o: Partial<grpc.CallOptions>,
        cb: (e: grpc.ServiceError | null, r: RankedItems) => void,
      ) => void
    )(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );

const rec = (userId: string, k = 10, filters?: RecommendRequest['filters'], c = client) =>
  call<RecommendRequest>('recommend', { userId, k, context: undefined, filters }, c);

const noFilters = () => ({
  categories: [],
  minPrice: 0,
  maxPrice: 0,
  inStockOnly: false,
  excludeItemIds: [],
});

function event(userId: string, itemId: string, type = EventType.EVENT_TYPE_CLICK) {
  return {
    key: userId,
    value: Buffer.from(
      ClickstreamEvent.encode({
        eventId: `${userId}-${itemId}-${Math.random()}`,
        type,
        userId,
        sessionId: 's',
        itemId,
        query: '',
        quantity: 1,
        price: 10,
        timestamp: new Date(),
        context: undefined,
        schemaVersion: 'reco.v1',
      }).finish(),
    ),
  };
}

async function publishModel(version: string, seed: number) {
  const m = await writeSyntheticModel(version, { numItems: N, dim: 16, seed });
  await producer.send({
    topic: topics.modelPublished,
    messages: [
      {
        key: 'sasrec',
        value: Buffer.from(
          ModelPublished.encode({
            modelVersion: version,
            modelName: 'sasrec',
            publishedAt: new Date(),
            artifactUri: m.uri,
            itemCount: N,
            embeddingDim: 16,
            metrics: {},
            dataWatermark: 'test',
            previousVersion: '',
          }).finish(),
        ),
      },
    ],
  });
}

async function poll<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const item = (i: number) => ({
  itemId: `item-${i}`,
  title: `${COLORS[i % 4]} ${KINDS[i % 3]} ${i}`,
  description: `a ${KINDS[i % 3]} for every day`,
  categoryPath: CATS[i % 3],
  brand: i % 2 ? 'acme' : 'globex',
  price: 10 + i,
  currency: 'EUR',
  inStock: i !== 5,
  createdAt: i === N - 1 ? new Date() : new Date('2024-01-01T00:00:00Z'),
  attributes: {},
  updatedAt: new Date(),
});

before(async () => {
  infra = await getTestInfra();
  redis = new Redis(infra.redisUrl);
  prefix = uniquePrefix('inference');
  topics = topicNames(prefix);
  const kafka = testKafka(infra, 'inference-int-test');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, ['eventsClean', 'catalog', 'modelPublished', 'impressions'], {
    prefix,
    partitions: 3,
    replicationFactor: 1,
  });
  await admin.disconnect();
  producer = inputProducer(kafka);
  await producer.connect();
  await producer.send({
    topic: topics.catalog,
    messages: Array.from({ length: N }, (_, i) => ({
      key: `item-${i}`,
      value: Buffer.from(CatalogItem.encode(item(i)).finish()),
    })),
  });
  await publishModel('sasrec-t1', 1);
  features = startService('features', {});
  inference = startService('inference', {});
  await Promise.all([
    features.waitFor('model loaded'),
    inference.waitFor('model loaded'),
    features.waitFor('features consuming'),
  ]);
  const { port } = await inference.waitFor('grpc listening');
  client = new RecommenderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  await poll('the catalog in inference', async () => {
    const r = await rec('nobody', 5);
    return r.items.length === 5 ? r : undefined;
  });
});

after(async () => {
  client?.close();
  await Promise.all([stopService(inference), stopService(features)]);
  await producer?.disconnect();
  redis?.disconnect();
  await infra?.stop();
});

test('/healthz of features and inference reports each of their Kafka consumers consuming', async () => {
  const checks = async (service: TestService) => {
    const { port } = await service.waitFor('http listening');
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(health.status, 200);
    return ((await health.json()) as { checks: Record<string, boolean> }).checks;
  };
  const featuresChecks = await checks(features);
  assert.equal(featuresChecks['kafka-consumer'], true);
  assert.equal(featuresChecks['catalog-consumer'], true);
  assert.equal(featuresChecks['model-consumer'], true);
  const inferenceChecks = await checks(inference);
  assert.equal(inferenceChecks['catalog-consumer'], true);
  assert.equal(inferenceChecks['model-consumer'], true);
});

test('bad requests get INVALID_ARGUMENT naming the field', async () => {
  const f = noFilters();
  const cases: [string, () => Promise<unknown>][] = [
    ['user_id', () => rec('', 10)],
    ['user_id', () => rec('x'.repeat(200), 10)],
    ['k', () => rec('u', 0)],
    ['k', () => rec('u', 101)],
    ['filters.categories[0]', () => rec('u', 10, { ...f, categories: ['Nope'] })],
    ['filters.min_price', () => rec('u', 10, { ...f, minPrice: 50, maxPrice: 20 })],
    ['filters.exclude_item_ids[0]', () => rec('u', 10, { ...f, excludeItemIds: [''] })],
    ['item_id', () => call<SimilarItemsRequest>('similarItems', { itemId: '', k: 5, filters: undefined })],
    ['query', () => call<SearchRequest>('search', { query: ' ', userId: '', k: 5, filters: undefined })],
  ];
  for (const [field, run] of cases) {
    await assert.rejects(run, (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT, `${field}: ${err.message}`);
      assert.ok(err.details.startsWith(`${field}:`), `"${err.details}" names ${field}`);
      return true;
    });
  }
});

test('a cold user gets popular in-stock items with reasons, a request id and the model version', async () => {
  const r = await rec('cold-user', 10);
  assert.equal(r.fallback, true);
  assert.equal(r.items.length, 10);
  assert.match(r.requestId, /^[0-9a-f-]{36}$/);
  assert.equal(r.modelVersion, 'sasrec-t1');
  assert.ok(r.items.every((i) => i.reason !== ''));
  assert.ok(!r.items.some((i) => i.itemId === 'item-5'), 'out of stock is never recommended');
});

test('a click changes the user’s vector and the next Recommend within a second; bought items are not recommended', async () => {
  const user = 'u-click-0000000000000000000000001';
  await producer.send({ topic: topics.eventsClean, messages: [event(user, 'item-10')] });
  const first = await poll('a personalized answer', async () => {
    const r = await rec(user, 20);
    return r.fallback ? undefined : r;
  });
  assert.ok(!first.items.some((i) => i.itemId === 'item-10'), 'the just-viewed item is not recommended');
  assert.ok(
    first.items.some((i) => i.reason.startsWith('similar to ')),
    'personal reasons',
  );
  const before = (await redis.getBuffer(userKey(prefix, user)))!;

  const sent = Date.now();
  await producer.send({ topic: topics.eventsClean, messages: [event(user, 'item-33')] });
  const second = await poll('a changed answer', async () => {
    const r = await rec(user, 20);
    return JSON.stringify(r.items) !== JSON.stringify(first.items) ? r : undefined;
  });
  const ms = Date.now() - sent;
  assert.ok(ms < 1000, `event -> changed Recommend in ${ms} ms`);
  const after = decodeUserState((await redis.getBuffer(userKey(prefix, user)))!);
  assert.notDeepEqual(
    [...after.vector!.values],
    [...decodeUserState(before).vector!.values],
    'the vector changed',
  );

  const top = second.items[0].itemId;
  await producer.send({
    topic: topics.eventsClean,
    messages: [event(user, top, EventType.EVENT_TYPE_PURCHASE)],
  });
  await producer.send({
    topic: topics.eventsClean,
    messages: [
      event(user, 'item-40'),
      event(user, 'item-41'),
      event(user, 'item-42'),
      event(user, 'item-43'),
    ],
  });
  await poll('the purchase applied', async () => {
    const s = decodeUserState((await redis.getBuffer(userKey(prefix, user)))!);
    return s.recent.length >= 7 ? true : undefined;
  });
  const third = await rec(user, 50);
  assert.ok(!third.items.some((i) => i.itemId === top), `bought ${top} is not recommended again`);
});

test('filters hold, every item has a reason, diversity caps one category', async () => {
  const user = 'u-filters-000000000000000000000001';
  await producer.send({
    topic: topics.eventsClean,
    messages: [event(user, 'item-3'), event(user, 'item-6')],
  });
  await poll('a personalized answer', async () => ((await rec(user, 5)).fallback ? undefined : true));
  const f = {
    ...noFilters(),
    categories: ['Shoes'],
    minPrice: 20,
    maxPrice: 60,
    excludeItemIds: ['item-12', 'item-15'],
  };
  for (const r of [await rec(user, 10, f), await rec('cold-filters', 10, f)]) {
    assert.ok(r.items.length > 0);
    for (const it of r.items) {
      const i = Number(it.itemId.slice(5));
      assert.equal(i % 3, 0, `${it.itemId} is a shoe`);
      assert.ok(10 + i >= 20 && 10 + i <= 60, `${it.itemId} price in range`);
      assert.ok(!['item-12', 'item-15', 'item-5'].includes(it.itemId));
      assert.ok(it.reason.length > 0);
    }
  }
  const diverse = await rec(user, 10);
  const perCat = new Map<number, number>();
  for (const it of diverse.items)
    perCat.set(Number(it.itemId.slice(5)) % 3, (perCat.get(Number(it.itemId.slice(5)) % 3) ?? 0) + 1);
  assert.ok(Math.max(...perCat.values()) <= 5, `at most half from one category: ${[...perCat.values()]}`);
  const newest = await rec('cold-new', 60);
  assert.equal(newest.items.find((i) => i.itemId === `item-${N - 1}`)?.reason, 'new arrival');
});

test('SimilarItems and Search answer with reasons; search keeps lexical matches only', async () => {
  const sim = await call<SimilarItemsRequest>('similarItems', {
    itemId: 'item-10',
    k: 5,
    filters: undefined,
  });
  assert.equal(sim.items.length, 5);
  assert.ok(!sim.items.some((i) => i.itemId === 'item-10'));
  assert.ok(sim.items.every((i) => i.reason === 'similar to green shirt 10'));
  const unknown = await call<SimilarItemsRequest>('similarItems', {
    itemId: 'no-such-item',
    k: 5,
    filters: undefined,
  });
  assert.equal(unknown.items.length, 0, 'an unknown item is an empty answer, not an error');

  const s = await call<SearchRequest>('search', { query: 'shoe', userId: '', k: 10, filters: undefined });
  assert.ok(s.items.length > 0);
  assert.ok(s.items.every((i) => i.reason === 'matches shoe' && Number(i.itemId.slice(5)) % 3 === 0));
  const personal = await call<SearchRequest>('search', {
    query: 'red',
    userId: 'u-click-0000000000000000000000001',
    k: 10,
    filters: undefined,
  });
  assert.equal(personal.fallback, false);
  assert.ok(
    personal.items.every((i) => Number(i.itemId.slice(5)) % 4 === 0),
    'only red items',
  );
});

test('grpc.health.v1 reports SERVING', async () => {
  const { port } = await inference.waitFor('grpc listening');
  const HealthClient = grpc.makeGenericClientConstructor(
    {
      Check: {
        path: '/grpc.health.v1.Health/Check',
        requestStream: false,
        responseStream: false,
        requestSerialize: (x: Buffer) => x,
        requestDeserialize: (x: Buffer) => x,
        responseSerialize: (x: Buffer) => x,
        responseDeserialize: (x: Buffer) => x,
      },
    },
    'Health',
  );
  const hc = new HealthClient(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client & {
    Check: (req: Buffer, cb: (e: grpc.ServiceError | null, r: Buffer) => void) => void;
  };
  // HealthCheckResponse { status = SERVING (1) } is the two bytes 08 01
  const res = await new Promise<Buffer>((resolve, reject) =>
    hc.Check(Buffer.alloc(0), (e, r) => (e ? reject(e) : resolve(r))),
  );
  hc.close();
  assert.deepEqual([...res], [8, 1]);
});

/** A server reflection stream (grpc.reflection.<version>): sends `requests`, returns the responses. */
async function reflect(
  port: number,
  version: 'v1' | 'v1alpha',
  requests: Record<string, unknown>[],
): Promise<Record<string, unknown>[]> {
  const root = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build', 'proto');
  const def = protoLoader.loadSync(`grpc/reflection/${version}/reflection.proto`, {
    includeDirs: [root],
    oneofs: true,
    longs: String,
  });
  const Client = grpc.loadPackageDefinition(def).grpc as unknown as Record<
    string,
    Record<string, Record<string, grpc.ServiceClientConstructor>>
  >;
  const c = new Client.reflection[version].ServerReflection(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  );
  try {
    const stream = (
      c as unknown as {
        ServerReflectionInfo(o: Partial<grpc.CallOptions>): grpc.ClientDuplexStream<unknown, unknown>;
      }
    ).ServerReflectionInfo({ deadline: Date.now() + 5000 });
    const out: Record<string, unknown>[] = [];
    const done = new Promise<void>((resolve, reject) => {
      stream.on('data', (m: Record<string, unknown>) => out.push(m));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    for (const r of requests) stream.write({ host: '', ...r });
    stream.end();
    await done;
    return out;
  } finally {
    c.close();
  }
}

/** FileDescriptorProto bytes as a FileDescriptorSet (`repeated FileDescriptorProto file = 1`). */
function descriptorSet(files: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    const len: number[] = [];
    for (let n = f.length; ; n >>>= 7) {
      if (n < 0x80) {
        len.push(n);
        break;
      }
      len.push((n & 0x7f) | 0x80);
    }
    parts.push(Buffer.from([0x0a, ...len]), f);
  }
  return Buffer.concat(parts);
}

test('server reflection (v1 and v1alpha) lists the services and describes reco.v1.Recommender well enough to call it', async () => {
  const port = Number((await inference.waitFor('grpc listening')).port);
  for (const version of ['v1', 'v1alpha'] as const) {
    const [list, file, health, missing] = await reflect(port, version, [
      { listServices: '*' },
      { fileContainingSymbol: 'reco.v1.Recommender' },
      { fileContainingSymbol: 'grpc.health.v1.Health' },
      { fileContainingSymbol: 'reco.v1.NoSuchService' },
    ]);
    assert.equal(list.messageResponse, 'listServicesResponse', `${version}: ${JSON.stringify(list)}`);
    const names = (list.listServicesResponse as { service: { name: string }[] }).service.map((s) => s.name);
    for (const s of ['reco.v1.Recommender', 'grpc.health.v1.Health'])
      assert.ok(names.includes(s), `${version} lists ${s}: ${names}`);

    assert.equal(file.messageResponse, 'fileDescriptorResponse', `${version}: ${JSON.stringify(file)}`);
    const files = (file.fileDescriptorResponse as { fileDescriptorProto: Buffer[] }).fileDescriptorProto;
    assert.ok(files.length > 0 && files.every((f) => f.length > 0));
    // Decode the descriptors as a client (grpcurl, Postman) would, and build a client from them.
    const described = protoLoader.loadFileDescriptorSetFromBuffer(descriptorSet(files), {
      longs: String,
      defaults: true,
    });
    const svc = described['reco.v1.Recommender'] as grpc.ServiceDefinition;
    assert.deepEqual(Object.keys(svc).sort(), ['Recommend', 'Search', 'SimilarItems']);
    assert.equal(svc.Recommend.path, '/reco.v1.Recommender/Recommend');
    assert.equal(svc.SimilarItems.path, '/reco.v1.Recommender/SimilarItems');
    assert.equal(svc.Search.path, '/reco.v1.Recommender/Search');
    const Reflected = grpc.makeClientConstructor(svc, 'reco.v1.Recommender');
    const rc = new Reflected(
      `127.0.0.1:${port}`,
      grpc.credentials.createInsecure(),
    ) as unknown as grpc.Client & {
      Recommend(
        r: object,
        m: grpc.Metadata,
        o: Partial<grpc.CallOptions>,
        cb: (e: grpc.ServiceError | null, r: Record<string, unknown>) => void,
      ): void;
    };
    try {
      const r = await new Promise<Record<string, unknown>>((resolve, reject) =>
        rc.Recommend(
          { userId: 'reflection-user', k: 3 },
          new grpc.Metadata(),
          { deadline: Date.now() + 5000 },
          (e, res) => (e ? reject(e) : resolve(res)),
        ),
      );
      assert.equal((r.items as unknown[]).length, 3, `${version}: ${JSON.stringify(r)}`);
      assert.equal(r.modelVersion, 'sasrec-t1');
    } finally {
      rc.close();
    }

    const healthFiles = (health.fileDescriptorResponse as { fileDescriptorProto: Buffer[] } | undefined)
      ?.fileDescriptorProto;
    assert.ok(healthFiles, `${version}: ${JSON.stringify(health)}`);
    const healthSvc = protoLoader.loadFileDescriptorSetFromBuffer(descriptorSet(healthFiles))[
      'grpc.health.v1.Health'
    ] as grpc.ServiceDefinition;
    assert.equal(healthSvc.Check.path, '/grpc.health.v1.Health/Check');
    assert.equal(healthSvc.Watch.path, '/grpc.health.v1.Health/Watch');

    assert.equal(missing.messageResponse, 'errorResponse', `${version}: ${JSON.stringify(missing)}`);
    assert.equal((missing.errorResponse as { errorCode: number }).errorCode, grpc.status.NOT_FOUND);
  }
});

test('Redis stopped: answers are non-personalized, not errors, and counted', async () => {
  execFileSync('redis-server', [
    '--port',
    String(OWN_REDIS_PORT),
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'yes',
  ]);
  const own = new Redis(`redis://127.0.0.1:${OWN_REDIS_PORT}`, {
    lazyConnect: true,
    retryStrategy: () => null,
  });
  own.on('error', () => undefined);
  await poll(
    'our own redis-server',
    () =>
      own.connect().then(
        () => true,
        () => undefined,
      ),
    10_000,
    100,
  );
  let second: TestService | undefined;
  let c2: RecommenderClient | undefined;
  try {
    const user = 'u-click-0000000000000000000000001';
    await own.set(userKey(prefix, user), (await redis.getBuffer(userKey(prefix, user)))!);
    second = startService('inference', {
      REDIS_URL: `redis://127.0.0.1:${OWN_REDIS_PORT}`,
      INFERENCE_GROUP_ID: `${prefix}inference2`,
    });
    await second.waitFor('model loaded');
    const { port } = await second.waitFor('grpc listening');
    const http = (await second.waitFor('http listening')).port;
    c2 = new RecommenderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const personal = await poll('a personalized answer', async () => {
      const r = await rec(user, 10, undefined, c2);
      return r.fallback || r.items.length < 10 ? undefined : r;
    });
    assert.equal(personal.fallback, false);

    await own.shutdown('NOSAVE').catch(() => undefined);
    own.disconnect();
    for (let i = 0; i < 20; i++) {
      const r = await rec(user, 10, undefined, c2);
      assert.equal(r.fallback, true);
      assert.equal(r.items.length, 10);
    }
    const metrics = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    assert.match(
      metrics,
      /inference_fallback_total\{method="Recommend",reason="redis_(error|timeout)",service="inference"\} ([2-9]\d|\d{3,})/,
    );
  } finally {
    c2?.close();
    await stopService(second);
    try {
      execFileSync('redis-cli', ['-p', String(OWN_REDIS_PORT), 'shutdown', 'nosave'], { stdio: 'ignore' });
    } catch {
      // already stopped
    }
  }
});

test('a model-published message switches versions under concurrent load with zero failed requests', async () => {
  const users = Array.from({ length: 8 }, (_, i) => `u-load-${i}`);
  await producer.send({
    topic: topics.eventsClean,
    messages: users.map((u, i) => event(u, `item-${i * 7}`)),
  });
  await poll('personalized load users', async () => ((await rec(users[7], 5)).fallback ? undefined : true));
  let stop = false;
  let failures = 0;
  let ok = 0;
  const versions = new Map<string, number>();
  const loops = users.map(async (u) => {
    while (!stop) {
      try {
        const r = await rec(u, 10);
        ok++;
        versions.set(r.modelVersion, (versions.get(r.modelVersion) ?? 0) + 1);
        assert.equal(r.items.length, 10);
      } catch {
        failures++;
      }
    }
  });
  await new Promise((r) => setTimeout(r, 500));
  await publishModel('sasrec-t2', 2);
  await inference.waitFor('model loaded', (e) => e.version === 'sasrec-t2');
  // features re-encodes the users in the background; inference serves each user with the
  // version of their vector until then
  await poll('users served by v2', async () =>
    (await rec(users[0], 10)).modelVersion === 'sasrec-t2' ? true : undefined,
  );
  await new Promise((r) => setTimeout(r, 500));
  stop = true;
  await Promise.all(loops);
  assert.equal(failures, 0, `failed requests during the switch (ok ${ok})`);
  assert.ok(versions.get('sasrec-t1')! > 0 && versions.get('sasrec-t2')! > 0, JSON.stringify([...versions]));
});

test('an A/B experiment splits users stably between arms and stamps the arm on answers and impressions; raw ids are pseudonymized', async () => {
  const experiment = {
    id: 'ab-int',
    arms: [
      { name: 'baseline', model: 'popular', share: 0.5 },
      { name: 'model', model: 'live', share: 0.5 },
    ],
  };
  const key = 'inference-test-key-0123456789abcdef';
  const ab = startService('inference', {
    RECO_EXPERIMENT: JSON.stringify(experiment),
    RECO_PSEUDONYMIZATION_KEY: key,
    INFERENCE_GROUP_ID: `${prefix}inference-ab`,
  });
  try {
    await ab.waitFor('model loaded');
    const { port } = await ab.waitFor('grpc listening');
    const abClient = new RecommenderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      await poll('the catalog in the experiment instance', async () => {
        const r = await rec('nobody-ab', 5, undefined, abClient);
        return r.items.length === 5 ? r : undefined;
      });
      const arms = new Map<string, string>();
      for (let u = 0; u < 40; u++) {
        const user = `ab-user-${u}`;
        const first = await rec(user, 5, undefined, abClient);
        const second = await rec(user, 5, undefined, abClient);
        assert.equal(first.experimentArm, second.experimentArm, 'the arm of a user is stable');
        assert.ok(['baseline', 'model'].includes(first.experimentArm));
        if (first.experimentArm === 'baseline') {
          assert.equal(first.modelVersion, 'popular');
          assert.equal(first.fallback, false, 'the baseline arm is not a fallback');
        }
        arms.set(pseudonymize(user, key), first.experimentArm);
      }
      const counts = [...arms.values()].reduce(
        (m, a) => m.set(a, (m.get(a) ?? 0) + 1),
        new Map<string, number>(),
      );
      assert.ok(
        (counts.get('baseline') ?? 0) >= 8 && (counts.get('model') ?? 0) >= 8,
        `both arms get users: ${[...counts]}`,
      );

      const kafka = testKafka(infra, 'ab-reader');
      const shown = await readTopic(kafka, topics.impressions, { expected: 1, timeoutMs: 20_000 });
      const stamped = shown.map((m) => Impression.decode(m.value!)).filter((i) => arms.has(i.userId));
      assert.ok(stamped.length >= 40, `impressions of the experiment users arrived (${stamped.length})`);
      for (const i of stamped) assert.equal(i.experimentArm, arms.get(i.userId));
      // the topic's value type is fixed: no per-record content-type header (docs/topics.md)
      assert.deepEqual(shown[0]!.headers, {});
      assert.ok(
        !shown.some((m) => Impression.decode(m.value!).userId.startsWith('ab-user-')),
        'no raw id leaves inference',
      );
    } finally {
      abClient.close();
    }
  } finally {
    await stopService(ab);
  }
});

test('an arm pinned to an older model version is served by that version, kept loaded beyond INFERENCE_KEEP_VERSIONS', async () => {
  // By now sasrec-t2 is live (the switch test published it) and features encodes with it.
  const users = Array.from({ length: 24 }, (_, u) => `pin-user-${String(u).padStart(26, '0')}`);
  await producer.send({
    topic: topics.eventsClean,
    messages: users.map((u, i) => event(u, `item-${10 + (i % 20)}`)),
  });
  await poll(
    'features wrote every pinned-test user',
    async () => {
      const states = await Promise.all(users.map((u) => redis.getBuffer(userKey(prefix, u))));
      return states.every((s) => s && decodeUserState(s).vector) ? true : undefined;
    },
    20_000,
  );
  const experiment = {
    id: 'pin-int',
    arms: [
      { name: 'old', model: 'sasrec-t1', share: 0.5 },
      { name: 'new', model: 'live', share: 0.5 },
    ],
  };
  const pinned = startService('inference', {
    RECO_EXPERIMENT: JSON.stringify(experiment),
    INFERENCE_KEEP_VERSIONS: '1',
    INFERENCE_GROUP_ID: `${prefix}inference-pin`,
  });
  try {
    await pinned.waitFor('model loaded', (e) => e.version === 'sasrec-t1');
    await pinned.waitFor('model loaded', (e) => e.version === 'sasrec-t2');
    const { port } = await pinned.waitFor('grpc listening');
    const c = new RecommenderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      await poll('the catalog in the pinned instance', async () => {
        const r = await rec('nobody-pin', 5, undefined, c);
        return r.items.length === 5 ? r : undefined;
      });
      const seen = new Set<string>();
      for (const user of users) {
        const r = await rec(user, 5, undefined, c);
        assert.equal(r.fallback, false, `${user} (${r.experimentArm}) gets a personalized answer`);
        assert.equal(r.modelVersion, r.experimentArm === 'old' ? 'sasrec-t1' : 'sasrec-t2');
        seen.add(r.experimentArm);
      }
      assert.deepEqual([...seen].sort(), ['new', 'old'], 'both arms were exercised');
    } finally {
      c.close();
    }
  } finally {
    await stopService(pinned);
  }
});
