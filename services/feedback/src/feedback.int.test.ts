import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Kafka, Partitioners, type Producer } from 'kafkajs';
import {
  CatalogItem,
  ClickstreamEvent,
  EventType,
  Impression,
  ModelPublished,
  Surface,
  topicNames,
} from '@reco/contracts';
import { assignArm, parseExperiment } from '@reco/experiments';
import { ensureTopics } from '@reco/platform';
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
import { Outcome, OutcomeType } from '@reco/contracts';
import type { MetricsView } from './queries';

const MAIN = join(__dirname, 'main.js');
const ARTIFACTS = join(__dirname, '..', '..', '..', 'artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const EXPERIMENT = parseExperiment({
  id: 'int-ab',
  arms: [
    { name: 'popular', model: 'popular', share: 0.5 },
    { name: 'sasrec', model: 'live', share: 0.5 },
  ],
});
const USERS = 200;
const ITEMS = 100;
const T = Date.now() - 60 * 60_000;

let infra: TestInfra;
let prefix: string;
let topics: ReturnType<typeof topicNames>;
let kafka: Kafka;
let producer: Producer;
let fakeInference: Server;
let fakeInferencePort = 0;
let service: RunningFeedback | undefined;

const user = (i: number) => createHash('sha256').update(`user-${i}`).digest('hex').slice(0, 32);
const armOf = (i: number) => assignArm(EXPERIMENT, user(i)).name;
const versionOf = (arm: string) => (arm === 'popular' ? 'popular' : 'sasrec-v2');
const itemsOf = (i: number) => Array.from({ length: 5 }, (_, k) => `item-${(i * 7 + k) % ITEMS}`);
const clicks = (i: number) => (armOf(i) === 'sasrec' ? i % 2 === 0 : i % 4 === 0);
const buys = (i: number) => i % 8 === 0;
const price = (i: number) => 10 + (i % 3);

function impression(requestId: string, i: number, time: number, items = itemsOf(i)) {
  const arm = armOf(i);
  return {
    key: user(i),
    value: Buffer.from(
      Impression.encode({
        requestId,
        userId: user(i),
        items: items.map((itemId, position) => ({
          itemId,
          position,
          score: 1 - position / 10,
          reason: 'test',
        })),
        modelVersion: versionOf(arm),
        experimentArm: arm,
        surface: Surface.SURFACE_RECOMMEND,
        timestamp: new Date(time),
      }).finish(),
    ),
  };
}

function event(eventId: string, i: number, type: EventType, itemId: string, time: number, unitPrice = 0) {
  return {
    key: user(i),
    value: Buffer.from(
      ClickstreamEvent.encode({
        eventId,
        type,
        userId: user(i),
        sessionId: `s-${i}`,
        itemId,
        query: '',
        quantity: type === EventType.EVENT_TYPE_PURCHASE ? 2 : 0,
        price: unitPrice,
        timestamp: new Date(time),
        context: undefined,
        schemaVersion: 'reco.v1',
      }).finish(),
    ),
  };
}

type RunningFeedback = TestService & { port: number };

/** Starts the real feedback process; resolves once it serves HTTP and consumes. */
async function startFeedback(): Promise<RunningFeedback> {
  const feedback = spawnService(MAIN, {
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    REDIS_URL: infra.redisUrl,
    RECO_TOPIC_PREFIX: prefix,
    RECO_TOPIC_PARTITIONS: '3',
    REDIS_KEY_PREFIX: prefix,
    RECO_EXPERIMENT: JSON.stringify(EXPERIMENT),
    FEEDBACK_GROUP_ID: `${prefix}feedback`,
    FEEDBACK_SESSION_TIMEOUT_MS: '6000',
    FEEDBACK_ALLOWED_LATENESS_SECONDS: '2',
    FEEDBACK_IDLE_FLUSH_SECONDS: '3',
    FEEDBACK_TICK_MS: '250',
    FEEDBACK_BUCKET_SECONDS: '30',
    FEEDBACK_WINDOW_MINUTES: '600',
    FEEDBACK_SCRAPE_TARGETS: `inference=http://127.0.0.1:${fakeInferencePort}/metrics`,
    FEEDBACK_SCRAPE_INTERVAL_SECONDS: '1',
    FEEDBACK_DASHBOARD_REFRESH_SECONDS: '0.5',
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  });
  const [listening] = await Promise.all([
    feedback.waitFor('http listening', undefined, 60_000),
    feedback.waitFor('feedback consuming', undefined, 60_000),
  ]);
  return { ...feedback, port: listening.port as number };
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${service!.port}${path}`);
  assert.equal(res.status, 200, `${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

before(async () => {
  infra = await getTestInfra();
  prefix = uniquePrefix('feedback');
  topics = topicNames(prefix);
  kafka = testKafka(infra, 'feedback-int-test');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, ['impressions', 'eventsClean', 'modelPublished', 'catalog'], {
    prefix,
    partitions: 3,
    replicationFactor: 1,
  });
  await admin.disconnect();
  producer = inputProducer(kafka, { createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();

  // Reference data: a catalog of ITEMS items and two published model versions.
  await producer.send({
    topic: topics.catalog,
    messages: Array.from({ length: ITEMS }, (_, i) => ({
      key: `item-${i}`,
      value: Buffer.from(
        CatalogItem.encode({
          itemId: `item-${i}`,
          title: `Item ${i}`,
          description: '',
          categoryPath: ['Test'],
          brand: 'b',
          price: 10,
          currency: 'EUR',
          inStock: true,
          createdAt: undefined,
          attributes: {},
          updatedAt: undefined,
        }).finish(),
      ),
    })),
  });
  await producer.send({
    topic: topics.modelPublished,
    messages: [
      { version: 'sasrec-v1', at: T - 3 * 3600_000, ndcg: 0.081, previous: '' },
      { version: 'sasrec-v2', at: T - 3600_000, ndcg: 0.093, previous: 'sasrec-v1' },
    ].map((m) => ({
      key: 'sasrec',
      value: Buffer.from(
        ModelPublished.encode({
          modelVersion: m.version,
          modelName: 'sasrec',
          publishedAt: new Date(m.at),
          artifactUri: `file:///models/${m.version}`,
          itemCount: ITEMS,
          embeddingDim: 64,
          metrics: { 'NDCG@10': m.ndcg, 'HR@10': m.ndcg * 2 },
          dataWatermark: '',
          previousVersion: m.previous,
        }).finish(),
      ),
    })),
  });

  // What inference would expose: a request-latency histogram.
  fakeInference = createServer((_req, res) => {
    res.setHeader('content-type', 'text/plain');
    res.end(
      [
        'inference_request_seconds_bucket{le="0.005",method="Recommend"} 40',
        'inference_request_seconds_bucket{le="0.01",method="Recommend"} 90',
        'inference_request_seconds_bucket{le="0.025",method="Recommend"} 130',
        'inference_request_seconds_bucket{le="0.05",method="Recommend"} 140',
        'inference_request_seconds_bucket{le="+Inf",method="Recommend"} 142',
        `inference_consumer_lag{topic="model"} 0`,
        `inference_messages_in_total ${Math.floor(Date.now() / 100)}`,
      ].join('\n'),
    );
  });
  await new Promise<void>((resolve) => fakeInference.listen(0, '127.0.0.1', resolve));
  fakeInferencePort = (fakeInference.address() as { port: number }).port;
  service = await startFeedback();
});

after(async () => {
  if (service) {
    service.child.kill('SIGTERM');
    await service.exited;
  }
  await producer?.disconnect();
  await new Promise((r) => fakeInference?.close(r));
  await infra?.stop();
});

/** What the first traffic must produce, computed from the same rules that generate it. */
function expectedFirstTraffic() {
  const perArm = new Map<
    string,
    { impressions: number; clicked: number; purchased: number; revenue: number }
  >();
  let clickOutcomes = 0;
  let purchaseOutcomes = 0;
  let skips = 0;
  for (let i = 0; i < USERS; i++) {
    const arm = armOf(i);
    const row = perArm.get(arm) ?? { impressions: 0, clicked: 0, purchased: 0, revenue: 0 };
    perArm.set(arm, row);
    row.impressions++;
    if (clicks(i)) {
      row.clicked++;
      clickOutcomes++;
      skips += 4;
      if (buys(i)) {
        row.purchased++;
        row.revenue += price(i) * 2;
        purchaseOutcomes++;
      }
    } else skips += 5;
  }
  return { perArm, clickOutcomes, purchaseOutcomes, skips };
}

test('impressions and clean events in → per-arm metrics over HTTP and labeled outcomes on the outcomes topic', async () => {
  const early: ReturnType<typeof event>[] = [];
  const rest: ReturnType<typeof event>[] = [];
  for (let i = 0; i < USERS; i++) {
    const shownAt = T + i * 1000;
    const target = itemsOf(i)[i % 5];
    const list = i < 50 ? early : rest;
    list.push(event(`view-${i}`, i, EventType.EVENT_TYPE_VIEW, target, shownAt + 10_000));
    if (clicks(i)) list.push(event(`click-${i}`, i, EventType.EVENT_TYPE_CLICK, target, shownAt + 20_000));
    if (clicks(i) && buys(i))
      list.push(event(`buy-${i}`, i, EventType.EVENT_TYPE_PURCHASE, target, shownAt + 60_000, price(i)));
  }
  // Out of order: the first 50 users' events are published before any impression.
  await producer.send({ topic: topics.eventsClean, messages: early });
  await producer.send({
    topic: topics.impressions,
    messages: [
      ...Array.from({ length: USERS }, (_, i) => impression(`req-${i}`, i, T + i * 1000)),
      impression('req-0', 0, T), // a repeat: counted once
    ],
  });
  await producer.send({
    topic: topics.eventsClean,
    messages: [
      ...rest,
      event('click-0', 0, EventType.EVENT_TYPE_CLICK, itemsOf(0)[0], T + 20_000), // a repeat
      event('click-outside', 3, EventType.EVENT_TYPE_CLICK, itemsOf(3)[0], T + 3000 + 30 * 60_000 + 1), // 1 ms past the window
      event('click-not-shown', 5, EventType.EVENT_TYPE_CLICK, 'item-not-shown', T + 6000),
    ],
  });
  // Everyone comes back 40 minutes later: the event watermark passes every window, which closes (skips).
  await producer.send({
    topic: topics.eventsClean,
    messages: Array.from({ length: USERS }, (_, i) =>
      event(`later-${i}`, i, EventType.EVENT_TYPE_VIEW, 'item-0', T + 40 * 60_000),
    ),
  });

  const expected = expectedFirstTraffic();
  const totalImpressions = USERS;
  const metrics = await waitFor('all impressions and outcomes counted', async () => {
    const m = await getJson<MetricsView>('/api/metrics');
    const imps = m.arms.reduce((n, a) => n + a.impressions, 0);
    const clicked = m.arms.reduce((n, a) => n + a.counts.clicked, 0);
    const purchased = m.arms.reduce((n, a) => n + a.counts.purchased, 0);
    return imps >= totalImpressions &&
      clicked >= expected.clickOutcomes &&
      purchased >= expected.purchaseOutcomes
      ? m
      : undefined;
  });
  for (const [arm, want] of expected.perArm) {
    const got = metrics.arms.find((a) => a.arm === arm);
    assert.ok(got, `arm ${arm} is reported`);
    assert.deepEqual(
      {
        impressions: got.impressions,
        clicked: got.counts.clicked,
        purchased: got.counts.purchased,
        revenue: got.counts.revenue,
      },
      want,
      `arm ${arm}`,
    );
    assert.equal(got.ctr.estimate, want.clicked / want.impressions);
    assert.ok(got.ctr.low < got.ctr.estimate && got.ctr.high > got.ctr.estimate);
    assert.deepEqual(got.modelVersions, [versionOf(arm)]);
    assert.ok(got.coverage! > 0 && got.coverage! <= 1);
  }
  assert.ok(Math.abs(metrics.catalogSize - ITEMS) <= 2, `catalog size ${metrics.catalogSize}`);
  assert.deepEqual(
    metrics.series.map((s) => `${s.modelVersion}|${s.arm}`),
    ['popular|popular', 'sasrec-v2|sasrec'],
  );
  const ctrComparison = metrics.comparisons.find((c) => c.metric === 'ctr');
  assert.equal(ctrComparison?.arm, 'sasrec');
  assert.equal(ctrComparison?.control, 'popular');
  assert.ok(ctrComparison!.difference.estimate > 0, 'sasrec users click more (by construction)');

  const wanted = expected.clickOutcomes + expected.purchaseOutcomes + expected.skips;
  const messages = await readTopic(kafka, topicNames(prefix).outcomes, {
    expected: wanted,
    timeoutMs: 60_000,
  });
  const outcomes = messages.map((m) => Outcome.decode(m.value!));
  const byType = (t: OutcomeType) => outcomes.filter((o) => o.type === t);
  assert.equal(
    byType(OutcomeType.OUTCOME_TYPE_CLICK).length,
    expected.clickOutcomes,
    'one click outcome per attributed click',
  );
  assert.equal(byType(OutcomeType.OUTCOME_TYPE_PURCHASE).length, expected.purchaseOutcomes);
  assert.equal(
    byType(OutcomeType.OUTCOME_TYPE_SKIP).length,
    expected.skips,
    'every other shown item is a skip',
  );
  assert.equal(new Set(outcomes.map((o) => o.outcomeId)).size, outcomes.length, 'no outcome twice');
  for (const o of byType(OutcomeType.OUTCOME_TYPE_CLICK)) {
    const i = Number(o.requestId.slice('req-'.length));
    assert.equal(o.eventId, `click-${i}`);
    assert.equal(o.userId, user(i));
    assert.equal(o.itemId, itemsOf(i)[i % 5]);
    assert.equal(o.position, i % 5);
    assert.equal(o.experimentArm, armOf(i));
    assert.equal(o.modelVersion, versionOf(armOf(i)));
    assert.equal(o.impressionTime!.getTime(), T + i * 1000);
    assert.equal(o.eventTime!.getTime(), T + i * 1000 + 20_000);
    assert.equal(messages[outcomes.indexOf(o)].key!.toString(), user(i), 'keyed by user');
  }
  assert.ok(!outcomes.some((o) => o.eventId === 'click-outside' || o.eventId === 'click-not-shown'));

  const prom = await (await fetch(`http://127.0.0.1:${service!.port}/metrics`)).text();
  assert.match(prom, /feedback_unattributed_events_total\{service="feedback"\} 2\b/);
  assert.match(prom, /feedback_duplicates_total\{stream="impression",service="feedback"\} 1\b/);
  assert.match(prom, /feedback_duplicates_total\{stream="event",service="feedback"\} 1\b/);
});

test('the dashboard loads in headless Chromium and its charts have data', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'feedback-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1400, height: 1800 },
  });
  try {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    const response = await page.goto(`http://127.0.0.1:${service!.port}/`);
    assert.equal(response?.status(), 200);
    assert.equal(await page.title(), 'reco · online feedback');
    await page.waitForFunction(
      () => {
        const d = (
          globalThis as unknown as { __dashboard?: { updates: number; points: Record<string, number> } }
        ).__dashboard;
        return (
          !!d &&
          d.updates >= 2 &&
          [
            'chart-ctr',
            'chart-conversion',
            'chart-impressions',
            'chart-models',
            'chart-latency',
            'chart-throughput',
          ].every((id) => (d.points[id] ?? 0) > 0)
        );
      },
      undefined,
      { timeout: 30_000 },
    );
    const points = await page.evaluate(
      () => (globalThis as unknown as { __dashboard: { points: Record<string, number> } }).__dashboard.points,
    );
    assert.equal(points['chart-models'], 2, 'two model versions on the timeline');
    assert.equal(points['chart-latency'], 5, 'five latency buckets');
    assert.equal((await page.locator('canvas').count()) >= 6, true, 'uPlot drew the charts');
    const armsText = await page.locator('#arms').innerText();
    assert.match(armsText, /popular/);
    assert.match(armsText, /sasrec/);
    assert.match(await page.locator('#models').innerText(), /sasrec-v2/);
    assert.deepEqual(errors, [], 'no script errors');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'feedback-dashboard.png'), fullPage: true });
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});

test('a killed feedback process restarts from Redis: open impressions get their clicks, nothing is counted twice', async () => {
  const T2 = T + 45 * 60_000;
  const n = 20;
  const before = await getJson<MetricsView>('/api/metrics');
  const sum = (m: MetricsView, f: (a: MetricsView['arms'][number]) => number) =>
    m.arms.reduce((s, a) => s + f(a), 0);
  const impressionsBefore = sum(before, (a) => a.impressions);
  const clickedBefore = sum(before, (a) => a.counts.clicked);
  await producer.send({
    topic: topics.impressions,
    messages: Array.from({ length: n }, (_, i) => impression(`again-${i}`, i, T2 + i * 1000)),
  });
  await waitFor('the new impressions counted', async () => {
    const m = await getJson<MetricsView>('/api/metrics');
    return sum(m, (a) => a.impressions) === impressionsBefore + n ? m : undefined;
  });

  service!.child.kill('SIGKILL');
  await service!.exited;
  await producer.send({
    topic: topics.eventsClean,
    messages: Array.from({ length: n }, (_, i) =>
      event(`again-click-${i}`, i, EventType.EVENT_TYPE_CLICK, itemsOf(i)[1], T2 + i * 1000 + 5000),
    ),
  });
  // inference retrying: the same impressions again, after the restart they must still be known.
  await producer.send({
    topic: topics.impressions,
    messages: Array.from({ length: n }, (_, i) => impression(`again-${i}`, i, T2 + i * 1000)),
  });
  service = await startFeedback();

  const after = await waitFor('the clicks attributed after the restart', async () => {
    const m = await getJson<MetricsView>('/api/metrics');
    return sum(m, (a) => a.counts.clicked) >= clickedBefore + n ? m : undefined;
  });
  await new Promise((r) => setTimeout(r, 1500)); // anything extra would show up by now
  const settled = await getJson<MetricsView>('/api/metrics');
  assert.equal(
    sum(settled, (a) => a.impressions),
    impressionsBefore + n,
    'repeated impressions not counted',
  );
  assert.equal(
    sum(settled, (a) => a.counts.clicked),
    clickedBefore + n,
  );
  assert.equal(
    sum(after, (a) => a.counts.clicks),
    sum(settled, (a) => a.counts.clicks),
  );

  const messages = await readTopic(kafka, topicNames(prefix).outcomes, {
    expected: 1,
    timeoutMs: 30_000,
    quietMs: 2000,
  });
  const again = messages
    .map((m) => Outcome.decode(m.value!))
    .filter((o) => o.eventId.startsWith('again-click-'));
  assert.equal(again.length, n, 'one click outcome each');
  assert.ok(again.every((o) => o.requestId.startsWith('again-') && o.position === 1));
});
