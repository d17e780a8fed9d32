import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RecommendRequest, SearchRequest } from '@reco/contracts';
import type { Experiment } from '@reco/experiments';
import { DeadlineExceeded } from './recommender';
import { readWhen, stubRecommender } from './testing/recommender-stubs';

const recommendReq = (userId: string, k = 5): RecommendRequest => ({
  userId,
  k,
  context: undefined,
  filters: undefined,
});
const searchReq = (query: string, userId: string): SearchRequest => ({
  query,
  userId,
  k: 5,
  filters: undefined,
});

const POPULAR_ARM: Experiment = {
  id: 'all-popular',
  salt: 'all-popular',
  control: 'baseline',
  arms: [{ name: 'baseline', model: 'popular', share: 1 }],
};

for (const [arm, experiment] of [
  ['live', undefined],
  ['popular', POPULAR_ARM],
] as [string, Experiment | undefined][]) {
  test(`Recommend (${arm} arm): a deadline that passes during the user read rejects with DeadlineExceeded and publishes no impression`, async () => {
    const deadline = Date.now() + 20;
    // the read answers only after the deadline has passed
    const s = stubRecommender({ read: readWhen(() => Date.now() > deadline + 1), experiment });
    await assert.rejects(s.recommender.recommend(recommendReq('slow-user'), deadline), DeadlineExceeded);
    assert.deepEqual(s.reads, ['slow-user'], 'the deadline passed during the read, not before it');
    assert.equal(s.published.length, 0, 'an answer nobody waits for is not an impression');
  });
}

test('Recommend: a deadline that is met answers and publishes one impression; no deadline is no limit', async () => {
  const deadline = Date.now() + 60_000;
  const s = stubRecommender({ read: readWhen(() => true) });
  const r = await s.recommender.recommend(recommendReq('u'), deadline);
  assert.equal(r.items.length, 5);
  assert.equal(r.fallback, true);
  const slow = Date.now() + 20;
  const r2 = await stubRecommender({ read: readWhen(() => Date.now() > slow) }).recommender.recommend(
    recommendReq('u'),
  );
  assert.equal(r2.items.length, 5, 'without a deadline a slow read is waited for');
  assert.equal(s.published.length, 1);
  assert.equal(s.published[0].requestId, r.requestId);
});

test('Search: a deadline that passes during the user read rejects with DeadlineExceeded and publishes no impression', async () => {
  const deadline = Date.now() + 20;
  const s = stubRecommender({ read: readWhen(() => Date.now() > deadline + 1) });
  await assert.rejects(s.recommender.search(searchReq('item', 'slow-user'), deadline), DeadlineExceeded);
  assert.deepEqual(s.reads, ['slow-user']);
  assert.equal(s.published.length, 0);
  // anonymous: no read, answered in time
  const r = await s.recommender.search(searchReq('item', ''), Date.now() + 60_000);
  assert.equal(r.items.length, 5);
  assert.equal(s.published.length, 1);
});
