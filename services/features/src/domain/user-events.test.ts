import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Interaction, emptyUserState } from '@reco/realtime';
import { DEFAULT_STATE_LIMITS, applyEvents, decayedScore } from './user-events';

const ev = (item: number, kind = Interaction.View, at = 1000, category?: number) => ({
  item,
  kind,
  at,
  category,
});

test('events append to the recent sequence, capped; a repeat of the latest item only strengthens it', () => {
  const limits = { ...DEFAULT_STATE_LIMITS, maxRecent: 3 };
  let r = applyEvents(emptyUserState(), [ev(1), ev(2)], limits);
  assert.ok(r.sequenceChanged);
  assert.deepEqual(
    r.state.recent.map((x) => x.item),
    [1, 2],
  );
  r = applyEvents(r.state, [ev(2, Interaction.Cart)], limits);
  assert.equal(r.sequenceChanged, false);
  assert.deepEqual(r.state.recent[1], { item: 2, kind: Interaction.Cart });
  r = applyEvents(r.state, [ev(3), ev(4)], limits);
  assert.deepEqual(
    r.state.recent.map((x) => x.item),
    [2, 3, 4],
  );
  assert.equal(r.state.updatedAt, 1000);
});

test('purchases are remembered (deduplicated, capped) after they leave the recent sequence', () => {
  const limits = { ...DEFAULT_STATE_LIMITS, maxRecent: 2, maxBought: 2 };
  let r = applyEvents(
    emptyUserState(),
    [ev(1, Interaction.Purchase), ev(2), ev(3), ev(1, Interaction.Purchase)],
    limits,
  );
  assert.deepEqual(r.state.bought, [1]);
  r = applyEvents(r.state, [ev(5, Interaction.Purchase), ev(6, Interaction.Purchase)], limits);
  assert.deepEqual(r.state.bought, [5, 6]);
});

test('category affinities decay by the half-life, strongest first, capped', () => {
  const limits = { ...DEFAULT_STATE_LIMITS, maxCategories: 2, categoryHalfLifeSeconds: 100 };
  let r = applyEvents(emptyUserState(), [ev(1, Interaction.Purchase, 0, 10)], limits);
  assert.deepEqual(r.state.categories, [{ category: 10, score: 5, lastSeen: 0 }]);
  r = applyEvents(r.state, [ev(2, Interaction.View, 100, 20), ev(3, Interaction.View, 100, 30)], limits);
  // 10 decayed to 2.5 at t=100, still ahead of 20 and 30 (1 each); one of those falls off
  assert.equal(r.state.categories.length, 2);
  assert.equal(r.state.categories[0].category, 10);
  assert.ok(Math.abs(r.state.categories[0].score - 2.5) < 1e-9);
  assert.equal(decayedScore({ category: 1, score: 8, lastSeen: 0 }, 300, 100), 1);
});

test('the vector is carried over untouched (re-encoding is the caller’s job)', () => {
  const vector = { modelTag: 1, values: new Float32Array([1, 2]) };
  const r = applyEvents({ ...emptyUserState(), vector }, [ev(1)]);
  assert.equal(r.state.vector, vector);
});
