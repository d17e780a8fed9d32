import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDataset } from './dataset';
import { drawNegatives, evaluateModel } from './evaluate';
import { rankMetrics } from './metrics';
import type { Recommender, ScoreBatch } from './recommender';
import { mulberry32, userRng } from './rng';
import { leaveOneOut } from './split';

/** Scores every user with a fixed row (or a function of the user), and records what it saw. */
class FixedScores implements Recommender {
  readonly name = 'fixed';
  readonly seen: { user: number; history: number[] }[] = [];
  constructor(private readonly scores: (user: number) => number[]) {}
  async fit(): Promise<void> {}
  scoreUsers(batch: ScoreBatch, out: Float32Array[]): void {
    batch.users.forEach((u, r) => {
      this.seen.push({ user: u, history: Array.from(batch.histories[r]) });
      out[r].set(this.scores(u));
    });
  }
}

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} != ${b}`);

test('full protocol: history items leave the ranking, ties take the average position', async () => {
  // 8 items (ids 1..8 -> indices 0..7); user 1: train [1,2], valid 3, test 4
  const ds8 = parseDataset('1 1 2 3 4\n2 5 6 7 8\n', 'seq', 'tiny');
  const split = leaveOneOut(ds8);
  // user 0: history [0,1,2], target 3. Items 0..2 score highest but are removed.
  // remaining: item 3 (target) 0.5, item 4 0.9, item 5 0.5, item 6 0.5, item 7 0.1
  // higher = 1, ties = 2 -> r = 1 + 1 = 2
  // user 1: history [4,5,6], target 7: item 7 0.1 vs items 0..3 -> higher 4 (0..2 are 1.0, 3 is 0.5)
  const model = new FixedScores(() => [1, 1, 1, 0.5, 0.9, 0.5, 0.5, 0.1]);
  const res = await evaluateModel(model, split, { protocol: 'full', seed: 1, ks: [1, 3, 5] });
  assert.equal(res.users, 2);
  assert.equal(res.items, 8);
  assert.deepEqual(
    model.seen.map((s) => s.history),
    [
      [0, 1, 2],
      [4, 5, 6],
    ],
  );
  const u0 = rankMetrics(1, 2, [1, 3, 5]);
  const u1 = rankMetrics(4, 0, [1, 3, 5]);
  close(res.metrics['HR@3'], (u0.hr[1] + u1.hr[1]) / 2); // (1 + 0) / 2
  close(res.metrics['HR@3'], 0.5);
  close(res.metrics['NDCG@5'], (1 / Math.log2(4) + 1 / Math.log2(6)) / 2);
  close(res.metrics.MRR, (1 / 3 + 1 / 5) / 2);
  // coverage@10 over 8 items: user 0 top-10 = 5 non-history items, user 1 = 5 -> all 8 items
  close(res.metrics['coverage@10'], 1);
  const res3 = await evaluateModel(model, split, { protocol: 'full', seed: 1, coverageK: 1 });
  // top-1: user 0 -> item 4, user 1 -> item 0
  close(res3.metrics['coverage@1'], 2 / 8);
  // validation target: history = train only
  const val = await evaluateModel(new FixedScores(() => [0, 0, 1, 0, 0, 0, 0, 0]), split, {
    protocol: 'full',
    seed: 1,
    target: 'validation',
  });
  close(val.metrics['HR@5'], 1);
  // user 0: target 2 is the only 1 -> r 0; user 1 (history [4,5], target 6): item 2 higher,
  // ties with items 0, 1, 3, 7 -> r = 1 + floor(4/2) = 3
  close(val.metrics.MRR, (1 + 1 / 4) / 2);
});

test('full protocol rejects NaN scores', async () => {
  const split = leaveOneOut(parseDataset('1 1 2 3 4\n', 'seq', 'tiny'));
  await assert.rejects(
    evaluateModel(new FixedScores(() => [0, 0, 0, NaN]), split, { protocol: 'full', seed: 1 }),
    /NaN/,
  );
});

test('drawNegatives: distinct, never-interacted, seeded, all when fewer are available', () => {
  const exclude = [0, 5, 9, 5];
  const a = drawNegatives(mulberry32(3), 50, exclude, 20);
  const b = drawNegatives(mulberry32(3), 50, exclude, 20);
  assert.deepEqual(Array.from(a), Array.from(b));
  assert.equal(new Set(a).size, 20);
  for (const i of a) assert.ok(!exclude.includes(i) && i >= 0 && i < 50);
  assert.notDeepEqual(Array.from(drawNegatives(mulberry32(4), 50, exclude, 20)), Array.from(a));
  assert.deepEqual(Array.from(drawNegatives(mulberry32(3), 6, [0, 5, 5], 20)), [1, 2, 3, 4]);
  // uniform: every allowed item gets drawn over many draws
  const seen = new Set<number>();
  const rand = mulberry32(9);
  for (let k = 0; k < 200; k++) for (const i of drawNegatives(rand, 50, exclude, 5)) seen.add(i);
  assert.equal(seen.size, 47);
});

test('sampled100 draws only never-interacted items and is deterministic per seed', async () => {
  // 300 items; 40 users with 10 interactions each
  const lines: string[] = [];
  const rand = mulberry32(5);
  for (let u = 1; u <= 40; u++) {
    const items = new Set<number>();
    while (items.size < 10) items.add(1 + Math.floor(rand() * 300));
    lines.push(`${u} ${[...items].join(' ')}`);
  }
  lines.push(`99 ${Array.from({ length: 300 }, (_, i) => i + 1).join(' ')}`); // makes all 300 items exist
  const split = leaveOneOut(parseDataset(lines.join('\n'), 'seq', 'synthetic'));
  const userItems = split.allSequences.map((s) => new Set(s));
  const probe: Recommender = {
    name: 'probe',
    async fit() {},
    scoreUsers(batch, out) {
      batch.users.forEach((u, r) => {
        // target (last item) scores 0, every other item -1
        out[r].fill(-1);
        const seq = split.allSequences[u];
        out[r][seq[seq.length - 1]] = 0;
      });
    },
  };
  const res = await evaluateModel(probe, split, { protocol: 'sampled100', seed: 42, ks: [1] });
  // target beats all -1 negatives -> HR@1 = 1 for every user, and the rank ignores non-candidates
  close(res.metrics['HR@1'], 1);

  // direct check of the candidate sets via drawNegatives with the same per-user seeding
  for (const c of split.test) {
    const negs = drawNegatives(
      userRng(42, split.train.userIds[c.user]),
      split.train.numItems,
      split.allSequences[c.user],
      100,
    );
    const again = drawNegatives(
      userRng(42, split.train.userIds[c.user]),
      split.train.numItems,
      split.allSequences[c.user],
      100,
    );
    assert.deepEqual(Array.from(negs), Array.from(again));
    const expected = Math.min(100, 300 - userItems[c.user].size);
    assert.equal(new Set(negs).size, expected);
    for (const i of negs) assert.ok(!userItems[c.user].has(i), 'negative was interacted with');
  }

  // the metric reflects exactly 100 negatives: the target scores below all candidates -> rank 100
  const worst: Recommender = {
    name: 'worst',
    async fit() {},
    scoreUsers(batch, out) {
      batch.users.forEach((u, r) => {
        out[r].fill(1);
        const seq = split.allSequences[u];
        out[r][seq[seq.length - 1]] = 0;
      });
    },
  };
  const w = await evaluateModel(worst, split, { protocol: 'sampled100', seed: 42 });
  close(w.metrics.MRR, (1 / 101) * (40 / 41) + (1 / 1) * (1 / 41)); // user 99 has no never-interacted item -> rank 0

  // deterministic per seed, sensitive to the seed
  const scorer = (seed: number): Recommender => ({
    name: 'rand',
    async fit() {},
    scoreUsers(batch, out) {
      const r = mulberry32(seed);
      batch.users.forEach((_, i) => {
        for (let j = 0; j < out[i].length; j++) out[i][j] = r();
      });
    },
  });
  const r1 = await evaluateModel(scorer(1), split, { protocol: 'sampled100', seed: 42 });
  const r2 = await evaluateModel(scorer(1), split, { protocol: 'sampled100', seed: 42 });
  const r3 = await evaluateModel(scorer(1), split, { protocol: 'sampled100', seed: 43 });
  assert.deepEqual({ ...r1.metrics }, { ...r2.metrics });
  assert.notDeepEqual({ ...r1.metrics }, { ...r3.metrics });
});
