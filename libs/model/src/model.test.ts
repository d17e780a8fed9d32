import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { mulberry32 } from './rng';
import { SequenceModel } from './sequence-model';
import { ServedScorer } from './served';
import { testTf, silent } from './test-util';
import { trainSequenceModel } from './trainer';
import { Transitions } from './transitions';

const tf = testTf();

function randomSequences(n: number, items: number, seed: number): Int32Array[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, () =>
    Int32Array.from({ length: 3 + Math.floor(rand() * 8) }, () => Math.floor(rand() * items)),
  );
}

test('save -> load gives identical encodings, item embeddings, transitions, served scores and user sample', async () => {
  const itemIds = Array.from({ length: 30 }, (_, i) => `item-${i}`);
  const sequences = randomSequences(80, 30, 1);
  const { model } = await trainSequenceModel(
    { itemIds, sequences },
    {
      tf,
      dim: 8,
      blocks: 2,
      heads: 2,
      maxLen: 6,
      ffnDim: 16,
      dropout: 0.2,
      batchSize: 16,
      epochs: 2,
      seed: 5,
      log: silent,
    },
  );
  // training leaves a sample of users' interest vectors, each a prefix of a training sequence
  const sample = model.userSample!;
  assert.equal(sample.length, 80 * 8, 'every user once here (fewer users than USER_SAMPLE_SIZE)');
  const prefixes = sequences.flatMap((s) => Array.from(s, (_, i) => s.subarray(0, i + 1)));
  const encoded = model.encodeUsers(prefixes);
  const isPrefixVector = (v: Float32Array) =>
    prefixes.some((_, p) => v.every((x, d) => Math.abs(x - encoded[p * 8 + d]!) < 1e-5));
  for (let u = 0; u < 80; u++)
    assert.ok(isPrefixVector(sample.subarray(u * 8, (u + 1) * 8)), `sampled vector ${u}`);
  model.transitions = Transitions.count(sequences, 30);
  model.blend = { weight: 1.5, transform: 'log1p' };
  const dir = mkdtempSync(join(tmpdir(), 'reco-model-'));
  try {
    const vdir = join(dir, 'v1');
    await model.save(vdir, { version: 'v1', dataWatermark: 'offset 123', metrics: { 'val_NDCG@10': 0.5 } });
    await assert.rejects(
      model.save(vdir, { version: 'v1', dataWatermark: 'x', metrics: {} }),
      /already holds a model/,
    );
    const loaded = await SequenceModel.load(vdir, { tf });
    const probe = randomSequences(10, 30, 2).concat([
      new Int32Array(0),
      Int32Array.from({ length: 20 }, (_, i) => i),
    ]);
    assert.deepEqual(loaded.encodeUsers(probe), model.encodeUsers(probe));
    assert.deepEqual(loaded.itemEmbeddings(), model.itemEmbeddings());
    assert.deepEqual(loaded.itemIds, itemIds);
    assert.equal(loaded.itemIndex('item-7'), 7);
    assert.equal(loaded.itemIndex('nope'), undefined);
    assert.equal(loaded.dim, 8);
    assert.deepEqual(loaded.blend, { weight: 1.5, transform: 'log1p' });
    assert.deepEqual(loaded.userSample, sample);
    const m = SequenceModel.readManifest(vdir);
    assert.equal(m.version, 'v1');
    assert.equal(m.dataWatermark, 'offset 123');
    assert.equal(m.metrics['val_NDCG@10'], 0.5);
    assert.deepEqual(m.userSample, { count: 80 });
    const u = model.encodeUsers([probe[0]]);
    const a = ServedScorer.fromModel(model).scoreCandidates(u, probe[0]);
    const b = ServedScorer.fromModel(loaded).scoreCandidates(u, probe[0]);
    assert.deepEqual(a, b);
    loaded.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    model.dispose();
  }
});

test('transitions count 1/distance within the window; served = dot + w * log1p(transitions)', () => {
  const t = Transitions.count([Int32Array.from([0, 1, 2, 3, 4])], 5, { window: 3, lastItems: 3 });
  const got = new Map<number, number>();
  t.forEachScore([0], (i, s) => got.set(i, s));
  const entries = [...got.entries()].sort((a, b) => a[0] - b[0]);
  assert.deepEqual(
    entries.map(([i]) => i),
    [1, 2, 3],
  );
  entries.forEach(([, s], k) => assert.ok(Math.abs(s - [1, 0.5, 1 / 3][k]) < 1e-6));
  const dim = 2;
  const emb = Float32Array.from([1, 0, 0, 1, 1, 1, 0.5, 0.5, 0, 0]);
  const scorer = new ServedScorer(emb, dim, t, 2);
  const user = Float32Array.from([1, 2]);
  const full = scorer.scoreCandidates(user, [0]);
  assert.ok(Math.abs(full[1] - (2 + 2 * Math.log1p(1))) < 1e-6);
  assert.ok(Math.abs(full[4] - 0) < 1e-6);
  const some = scorer.scoreCandidates(user, [0], [4, 1, 2]);
  assert.deepEqual([...some], [full[4], full[1], full[2]]);
  const plain = new ServedScorer(emb, dim, t, 0).scoreCandidates(user, [0]);
  assert.ok(Math.abs(plain[1] - 2) < 1e-6);
});

test('candidate scores equal the full row, bit for bit, in any candidate order and count', () => {
  const rand = mulberry32(3);
  for (const [dim, items] of [
    [64, 500],
    [10, 37],
    [1, 5],
  ] as const) {
    const emb = Float32Array.from({ length: items * dim }, () => rand() - 0.5);
    const user = Float32Array.from({ length: dim }, () => rand() * 2 - 1);
    const scorer = new ServedScorer(emb, dim, undefined, 0);
    const full = scorer.scoreCandidates(user, []);
    for (const n of [0, 1, 3, 4, 7, 130]) {
      const candidates = Array.from({ length: n }, () => Math.floor(rand() * items));
      const some = scorer.scoreCandidates(user, [], candidates);
      assert.deepEqual(
        [...some],
        candidates.map((i) => full[i]),
        `dim ${dim}, ${n} candidates`,
      );
      // and the sum in index order, as the offline evaluation computes it
      candidates.forEach((i, c) => {
        let s = 0;
        for (let k = 0; k < dim; k++) s += user[k] * emb[i * dim + k];
        assert.equal(some[c], Math.fround(s));
      });
    }
  }
});
