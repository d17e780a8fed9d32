import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSearcher } from '@reco/ann';
import { SequenceModel } from '@reco/model';
import { writeSyntheticModel } from '@reco/realtime';
import { ServingVersion, dot } from './model-registry';

test('a serving version scores, compares and extends candidates as its plain definitions do', async () => {
  const { dir } = await writeSyntheticModel('registry-unit', { numItems: 300, dim: 16, seed: 3 });
  const model = await SequenceModel.load(dir);
  const ann = await buildSearcher(model.itemEmbeddings(), model.dim, { thread: false });
  const v = new ServingVersion('registry-unit', model, ann);
  try {
    const user = v.embedding(5).map((x, d) => x + v.embedding(9)[d]!);
    const recent = [5, 6, 7, 8, 9];
    const labels = [10, 11, 12, 3, 200, 299, 0];

    // one request's scores are each candidate's own score (the batch path adds nothing)
    const batch = v.score(user, recent, labels);
    labels.forEach((l, i) => assert.ok(Math.abs(batch[i]! - v.score(user, recent, [l])[0]!) < 1e-5));

    for (const [a, b] of [
      [0, 1],
      [17, 250],
      [299, 299],
    ] as const)
      assert.ok(Math.abs(v.similarity(a, b) - dot(v.embedding(a), v.embedding(b))) < 1e-5);

    // transitions from the user's last items: the highest-scored first, at most `limit`
    const all: { label: number; s: number }[] = [];
    model.transitions!.forEachScore(recent, (label, s) => all.push({ label, s }));
    assert.ok(all.length > 3, `the synthetic sessions give transitions (${all.length})`);
    const expected = all
      .map((x, i) => ({ ...x, i }))
      .sort((a, b) => b.s - a.s || a.i - b.i)
      .map((x) => x.label);
    assert.deepEqual(v.transitionCandidates(recent, 3), expected.slice(0, 3));
    assert.deepEqual(v.transitionCandidates(recent, 1000), expected);
    assert.deepEqual(v.transitionCandidates(recent, 0), []);
  } finally {
    await ann.close();
    model.dispose();
  }
});
