import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type Producer } from 'kafkajs';
import { CatalogItem, ClickstreamEvent, EventType, ModelPublished, topicNames } from '@reco/contracts';
import { ensureTopics } from '@reco/platform';
import {
  Interaction,
  categoryKey,
  decodeUserState,
  hash32,
  itemHash,
  popularityKeys,
  userKey,
  writeSyntheticModel,
  type UserState,
} from '@reco/realtime';
import {
  inputProducer,
  spawnService,
  uniquePrefix,
  useTestInfra,
  type TestService,
  testKafka,
} from '@reco/testing';

const MAIN = join(__dirname, 'main.js');
const env = useTestInfra();

/** Starts the real features process; resolves once it consumes. */
async function startFeatures(prefix: string): Promise<TestService> {
  const features = spawnService(MAIN, {
    KAFKA_BROKERS: env.infra.kafkaBrokers.join(','),
    REDIS_URL: env.infra.redisUrl,
    RECO_TOPIC_PREFIX: prefix,
    RECO_TOPIC_PARTITIONS: '3',
    REDIS_KEY_PREFIX: prefix,
    FEATURES_GROUP_ID: `${prefix}features`,
    FEATURES_SESSION_TIMEOUT_MS: '6000',
    FEATURES_POPULARITY_REFRESH_MS: '300',
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  });
  await features.waitFor('features consuming', undefined, 60_000);
  return features;
}

async function poll<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const click = (userId: string, itemId: string, type = EventType.EVENT_TYPE_CLICK) => ({
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
  headers: { 'content-type': 'application/x-protobuf' },
});

async function publishModel(producer: Producer, topic: string, version: string, uri: string) {
  await producer.send({
    topic,
    messages: [
      {
        key: 'sasrec',
        value: Buffer.from(
          ModelPublished.encode({
            modelVersion: version,
            modelName: 'sasrec',
            publishedAt: new Date(),
            artifactUri: uri,
            itemCount: 60,
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

test('a clean event changes the user’s sequence and vector in Redis; a new model re-encodes users in the background', async () => {
  const prefix = uniquePrefix('features');
  const topics = topicNames(prefix);
  const kafka = testKafka(env.infra, 'features-int-test');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, ['eventsClean', 'catalog', 'modelPublished'], {
    prefix,
    partitions: 3,
    replicationFactor: 1,
  });
  await admin.disconnect();
  const producer = inputProducer(kafka);
  await producer.connect();

  const v1 = await writeSyntheticModel('sasrec-test-1', { numItems: 60, dim: 16, seed: 1 });
  await publishModel(producer, topics.modelPublished, 'sasrec-test-1', v1.uri);
  await producer.send({
    topic: topics.catalog,
    messages: ['item-3', 'item-7'].map((id) => ({
      key: id,
      value: Buffer.from(
        CatalogItem.encode({
          itemId: id,
          title: id,
          description: '',
          categoryPath: ['Beauty', 'Face'],
          brand: 'acme',
          price: 10,
          currency: 'EUR',
          inStock: true,
          createdAt: new Date(),
          attributes: {},
          updatedAt: new Date(),
        }).finish(),
      ),
    })),
  });

  const features = await startFeatures(prefix);
  try {
    await features.waitFor('model loaded', undefined, 60_000);
    const user = 'u0000000000000000000000000000001';
    const key = userKey(prefix, user);
    const read = async (): Promise<UserState | undefined> => {
      const raw = await env.redis.getBuffer(key);
      return raw ? decodeUserState(raw) : undefined;
    };

    await producer.send({ topic: topics.eventsClean, messages: [click(user, 'item-3')] });
    const first = await poll('the first state', async () => {
      const s = await read();
      return s?.vector ? s : undefined;
    });
    assert.deepEqual(first.recent, [{ item: itemHash('item-3'), kind: Interaction.Click }]);
    assert.equal(first.vector!.modelTag, hash32('sasrec-test-1'));
    assert.equal(first.vector!.values.length, 16);
    assert.equal(first.categories[0].category, hash32(categoryKey(['Beauty', 'Face'])));
    const ttl = await env.redis.pttl(key);
    assert.ok(ttl > 29 * 86400_000, `TTL refreshed on activity (${ttl})`);

    const sent = Date.now();
    await producer.send({
      topic: topics.eventsClean,
      messages: [click(user, 'item-7', EventType.EVENT_TYPE_PURCHASE)],
    });
    const second = await poll('the second state', async () => {
      const s = await read();
      return s && s.recent.length === 2 ? s : undefined;
    });
    const freshnessMs = Date.now() - sent;
    assert.deepEqual(
      second.recent.map((r) => r.item),
      [itemHash('item-3'), itemHash('item-7')],
    );
    assert.deepEqual(second.bought, [itemHash('item-7')]);
    assert.notDeepEqual([...second.vector!.values], [...first.vector!.values], 'the interest vector changed');
    assert.ok(freshnessMs < 1000, `event -> vector in ${freshnessMs} ms`);

    const pop = popularityKeys(prefix);
    await poll('popularity windows', async () =>
      Number(await env.redis.zscore(pop.window('w1h'), 'item-7')) === 5 ? true : undefined,
    );
    // a refresh writes the windows first and the trending list after them, from the 1 h window
    await poll('item-7 trending', async () =>
      Number(await env.redis.zscore(pop.trending, 'item-7')) > 0 ? true : undefined,
    );

    // A new version: the user is re-encoded in the background without any new event.
    const v2 = await writeSyntheticModel('sasrec-test-2', { numItems: 60, dim: 16, seed: 2 });
    await publishModel(producer, topics.modelPublished, 'sasrec-test-2', v2.uri);
    const third = await poll('re-encoding with v2', async () => {
      const s = await read();
      return s?.vector?.modelTag === hash32('sasrec-test-2') ? s : undefined;
    });
    assert.deepEqual(third.recent, second.recent, 'the sequence is kept');

    const metrics = await (
      await fetch(
        `http://127.0.0.1:${(await features.waitFor('http listening', undefined, 60_000)).port}/metrics`,
      )
    ).text();
    assert.match(metrics, /features_reencoded_users_total\{service="features"\} [1-9]/);
    assert.match(metrics, /features_encode_batch_size_count\{service="features"\} [1-9]/);
  } finally {
    await producer.disconnect();
    features.child.kill('SIGTERM');
    assert.equal(await features.exited, 0, 'graceful shutdown exits 0');
  }
});
