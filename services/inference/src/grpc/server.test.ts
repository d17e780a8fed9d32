import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { RecommenderClient, type RankedItems } from '@reco/contracts';
import { Registry, createLogger } from '@reco/platform';
import { createInferenceMetrics, type InferenceMetrics } from '../adapters/inference-metrics';
import { ValidationError } from '../domain/validation';
import { DeadlineExceeded, type Recommender } from '../recommender';
import { readWhen, stubRecommender } from '../testing/recommender-stubs';
import { GrpcServer } from './server';

const PROTO_DIR = join(__dirname, '..', '..', '..', '..', 'proto');
const logger = createLogger('inference-test', 'silent');

type Method = 'recommend' | 'similarItems' | 'search';
type Handler = (req: unknown, deadline: number | undefined) => Promise<RankedItems>;

const REQUESTS: Record<Method, object> = {
  recommend: { userId: 'u', k: 3, context: undefined, filters: undefined },
  similarItems: { itemId: 'item-1', k: 3, filters: undefined },
  search: { query: 'item', userId: '', k: 3, filters: undefined },
};
const NAMES: Record<Method, string> = {
  recommend: 'Recommend',
  similarItems: 'SimilarItems',
  search: 'Search',
};

/** A GrpcServer on a free loopback port in front of `recommender`, and a client to it. */
async function serve(recommender: Recommender, metrics: InferenceMetrics) {
  const server = new GrpcServer(recommender, metrics, logger, PROTO_DIR);
  const port = await server.listen('127.0.0.1', 0);
  server.setServing(true);
  const client = new RecommenderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    server,
    client,
    async close() {
      client.close();
      await server.stop(1000);
    },
  };
}

function call(client: RecommenderClient, method: Method, deadline?: number): Promise<RankedItems> {
  return new Promise((resolve, reject) =>
    (
      client[method] as unknown as (
        r: object,
        m: grpc.Metadata,
        o: Partial<grpc.CallOptions>,
        cb: (e: grpc.ServiceError | null, r: RankedItems) => void,
      ) => void
    )(REQUESTS[method], new grpc.Metadata(), deadline === undefined ? {} : { deadline }, (err, res) =>
      err ? reject(err) : resolve(res),
    ),
  );
}

const status =
  (code: grpc.status, details: string | RegExp) =>
  (err: grpc.ServiceError): boolean => {
    assert.equal(err.code, code, `${grpc.status[err.code]}: ${err.details}`);
    if (typeof details === 'string') assert.equal(err.details, details);
    else assert.match(err.details, details);
    return true;
  };

async function counted(metrics: InferenceMetrics, method: string, code: string): Promise<number> {
  const v = (await metrics.requests.get()).values.find(
    (x) => x.labels.method === method && x.labels.code === code,
  );
  return v?.value ?? 0;
}

// One server whose recommender does whatever the current test sets.
let handler: Handler = () => Promise.reject(new Error('no handler set'));
let metrics: InferenceMetrics;
let fake: Awaited<ReturnType<typeof serve>>;
const fakeRecommender = {
  recommend: (req: unknown, d?: number) => handler(req, d),
  similarItems: (req: unknown, d?: number) => handler(req, d),
  search: (req: unknown, d?: number) => handler(req, d),
} as unknown as Recommender;

before(async () => {
  metrics = createInferenceMetrics(new Registry());
  fake = await serve(fakeRecommender, metrics);
});

after(async () => {
  await fake?.close();
});

test('DeadlineExceeded from the recommender is gRPC DEADLINE_EXCEEDED for every method, counted', async () => {
  handler = () => Promise.reject(new DeadlineExceeded('deadline exceeded'));
  for (const method of ['recommend', 'similarItems', 'search'] as const) {
    const before = await counted(metrics, NAMES[method], 'DEADLINE_EXCEEDED');
    // the caller's deadline is far: the status is the server's mapping, not a timer's
    await assert.rejects(
      call(fake.client, method, Date.now() + 10_000),
      status(grpc.status.DEADLINE_EXCEEDED, 'deadline exceeded'),
    );
    assert.equal(await counted(metrics, NAMES[method], 'DEADLINE_EXCEEDED'), before + 1, method);
  }
});

test('the caller’s deadline reaches the recommender as epoch ms; no deadline is undefined', async () => {
  const seen: (number | undefined)[] = [];
  handler = async (_req, d) => {
    seen.push(d);
    return { requestId: 'r', modelVersion: 'v', experimentArm: 'live', items: [], fallback: false };
  };
  const deadline = Date.now() + 30_000;
  for (const method of ['recommend', 'similarItems', 'search'] as const) {
    seen.length = 0;
    await call(fake.client, method, deadline);
    await call(fake.client, method);
    assert.equal(seen.length, 2);
    assert.equal(typeof seen[0], 'number', method);
    // sent as a relative grpc-timeout (whole ms, rounded up) and re-based on the server's clock
    assert.ok(Math.abs(seen[0]! - deadline) < 1000, `${method}: ${seen[0]} vs ${deadline}`);
    assert.equal(seen[1], undefined, `${method} without a deadline`);
  }
});

test('ValidationError is INVALID_ARGUMENT naming the field; anything else is INTERNAL without its message', async () => {
  handler = () => Promise.reject(new ValidationError('k', 'must be at least 1'));
  await assert.rejects(
    call(fake.client, 'recommend', Date.now() + 10_000),
    status(grpc.status.INVALID_ARGUMENT, 'k: must be at least 1'),
  );
  handler = () => Promise.reject(new Error('secret internals'));
  await assert.rejects(
    call(fake.client, 'search', Date.now() + 10_000),
    status(grpc.status.INTERNAL, 'internal error'),
  );
  assert.equal(await counted(metrics, 'Search', 'INTERNAL'), 1);
});

test('a user read slower than the caller’s deadline: the caller gets DEADLINE_EXCEEDED, the recommender gives up, no impression', async () => {
  let release = false;
  const s = stubRecommender({ read: readWhen(() => release) });
  let settled: Promise<RankedItems> | undefined;
  const recommend = s.recommender.recommend.bind(s.recommender);
  s.recommender.recommend = (req, d) => (settled = recommend(req, d));
  const real = await serve(s.recommender, s.metrics);
  try {
    await assert.rejects(
      call(real.client, 'recommend', Date.now() + 100),
      status(grpc.status.DEADLINE_EXCEEDED, /deadline exceeded/i),
    );
    assert.ok(settled, 'the request reached the recommender');
    assert.deepEqual(s.reads, ['u'], 'it was waiting on the user read');
    // the server's deadline is the caller's re-based on its clock (+ transit): let it pass too
    await new Promise((r) => setTimeout(r, 50));
    release = true;
    await assert.rejects(settled, DeadlineExceeded);
    assert.equal(s.published.length, 0, 'no impression for an answer nobody received');
    await new Promise((r) => setImmediate(r));
    assert.equal(await counted(s.metrics, 'Recommend', 'DEADLINE_EXCEEDED'), 1);

    // the same recommender and server answer a caller whose deadline the read meets
    const ok = await call(real.client, 'recommend', Date.now() + 10_000);
    assert.equal(ok.items.length, 3);
    assert.equal(s.published.length, 1);
  } finally {
    await real.close();
  }
});
