import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDataset } from './dataset';
import { evaluateModel } from './evaluate';
import { ItemKnnRecommender } from './models/itemknn';
import { PopularRecommender } from './models/popular';
import { leaveOneOut, trainPlusValidation } from './split';

const idx = (ds: ReturnType<typeof parseDataset>, id: string) => ds.itemIndex.get(id)!;

test('itemknn ranks the planted follower first', async () => {
  // item 50 is always followed by item 60; item 99 is the most popular item overall
  const lines = [
    '1 99 10 50 60 11 12',
    '2 99 20 50 60 21 22',
    '3 99 30 50 60 31 32',
    '4 99 99 41 42 43 44', // repeated consumption is allowed
    '5 99 51 52 53 54 55',
    '6 99 70 71 72 73 74',
    '7 99 80 81 82 50 60', // test: history 99 80 81 82 50, target 60
  ];
  const ds = parseDataset(lines.join('\n'), 'seq', 'planted');
  const split = leaveOneOut(ds);
  const model = new ItemKnnRecommender();
  await model.fit(split.train, split.validation, { seed: 1 });
  // training sequences include "50 60" for users 1, 2, 3 (train parts end before the last two)
  const t = model.transitionsFrom(idx(ds, '50'));
  const to60 = t.items.indexOf(idx(ds, '60'));
  assert.ok(to60 >= 0, 'transition 50 -> 60 counted');
  assert.equal(t.weights[to60], 3); // three times at distance 1

  const c = split.test.find((x) => ds.userIds[x.user] === '7')!;
  assert.equal(c.target, idx(ds, '60'));
  const row = new Float32Array(ds.itemIds.length);
  model.scoreUsers({ users: Int32Array.of(c.user), histories: [c.history] }, [row]);
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  assert.equal(ds.itemIds[best], '60', 'the follower outranks the popular item 99');
  assert.ok(row[idx(ds, '60')] > row[idx(ds, '99')]);

  const res = await evaluateModel(model, split, { protocol: 'full', seed: 1, ks: [1] });
  // user 7's target is ranked first
  assert.ok(res.metrics['HR@1'] >= 1 / res.users);
  // a popularity model cannot do it
  const pop = new PopularRecommender();
  await pop.fit(split.train);
  const prow = new Float32Array(ds.itemIds.length);
  pop.scoreUsers({ users: Int32Array.of(c.user), histories: [c.history] }, [prow]);
  assert.ok(prow[idx(ds, '99')] > prow[idx(ds, '60')]);
});

test('itemknn weights: 1/distance within 3 steps, last items weighted 1, 1/2, 1/3, popularity breaks ties', async () => {
  const ds = parseDataset(['1 1 2 3 4 5 9 9', '2 7 8 7', '3 7 8 8'].join('\n'), 'seq', 'w');
  const model = new ItemKnnRecommender();
  await model.fit({ ...leaveOneOut(ds).train, sequences: ds.sequences }, undefined, { seed: 1 });
  const weights = (a: string) => {
    const t = model.transitionsFrom(idx(ds, a));
    return Object.fromEntries(Array.from(t.items, (b, j) => [ds.itemIds[b], t.weights[j]]));
  };
  assert.deepEqual(weights('1'), { '2': 1, '3': 1 / 2, '4': 1 / 3 });
  assert.deepEqual(weights('3'), { '4': 1, '5': 1 / 2, '9': 1 / 3 });
  assert.deepEqual(weights('5'), { '9': 1 + 1 / 2 }); // 9 follows 5 at distances 1 and 2
  assert.deepEqual(weights('7'), { '8': 1 + 1 + 1 / 2 }); // 7 8 7 / 7 8 8; 7 -> 7 is not a transition

  // history 1 2 3: item 3 votes with weight 1, item 2 with 1/2, item 1 with 1/3
  const history = Int32Array.from(['1', '2', '3'], (id) => idx(ds, id));
  const raw = model.transitionScores(history);
  const score = Object.fromEntries(raw.items.map((b, j) => [ds.itemIds[b], raw.scores[j]]));
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} != ${b}`);
  near(score['4'], 1 + 1 / 4 + 1 / 9);
  near(score['5'], 1 / 2 + 1 / 6);
  near(score['3'], 1 / 2 + 1 / 6);
  near(score['9'], 1 / 3);
  near(score['2'], 1 / 3);

  const row = new Float32Array(ds.itemIds.length);
  model.scoreUsers({ users: Int32Array.of(0), histories: [history] }, [row]);
  const r = (id: string) => row[idx(ds, id)];
  assert.ok(r('4') > r('5'));
  assert.equal(r('5'), r('3')); // same transition score, same popularity (1): a true tie
  assert.ok(r('3') > r('9'));
  assert.ok(r('9') > r('2')); // same transition score, 9 is more popular
  assert.ok(r('2') > r('7'));
  assert.equal(r('7'), r('8')); // no transitions, same popularity (3)
  assert.ok(r('8') > r('1')); // popularity 3 > 1
});

test('popular and itemknn fit on train + validation items by default', async () => {
  assert.equal(new PopularRecommender().defaultFitOn, 'train+valid');
  assert.equal(new ItemKnnRecommender().defaultFitOn, 'train+valid');
  const ds = parseDataset('1 1 2 3 4\n2 2 3 4 5\n', 'seq', 'p');
  const split = leaveOneOut(ds);
  const pop = new PopularRecommender();
  await pop.fit(trainPlusValidation(split));
  const row = new Float32Array(5);
  pop.scoreUsers({ users: Int32Array.of(0), histories: [split.test[0].history] }, [row]);
  assert.deepEqual(Array.from(row), [1, 2, 2, 1, 0]);
});
