import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { mulberry32 } from './rng';
import { testTf, silent } from './test-util';
import { trainSequenceModel } from './trainer';

/**
 * 50 items: A_k = k (k < 10) is always followed by B_k = k + 10; items 20..49 are noise and
 * item 20 is by far the most popular. A model that learned the order ranks B_k first after A_k.
 */
function plantedData(users: number, seed: number): Int32Array[] {
  const rand = mulberry32(seed);
  const seqs: Int32Array[] = [];
  for (let u = 0; u < users; u++) {
    const len = 6 + Math.floor(rand() * 6);
    const s: number[] = [];
    while (s.length < len) {
      const r = rand();
      if (r < 0.35) s.push(20);
      else if (r < 0.65) s.push(21 + Math.floor(rand() * 29));
      else {
        const k = Math.floor(rand() * 10);
        s.push(k, k + 10);
      }
    }
    seqs.push(Int32Array.from(s));
  }
  return seqs;
}

test('on planted structure (B follows A) the model ranks B first after A far more often than popular', async () => {
  const tf = testTf();
  const itemIds = Array.from({ length: 50 }, (_, i) => String(i + 1));
  const sequences = plantedData(400, 7);
  const validation = plantedData(100, 8).map((s) => ({
    history: s.subarray(0, s.length - 1),
    target: s[s.length - 1],
  }));
  const { model, report } = await trainSequenceModel(
    { itemIds, sequences, validation },
    {
      tf,
      dim: 16,
      blocks: 1,
      heads: 2,
      maxLen: 12,
      ffnDim: 32,
      dropout: 0.1,
      learningRate: 0.01,
      batchSize: 32,
      epochs: 25,
      patience: 0,
      seed: 3,
      log: silent,
    },
  );
  assert.ok(report.epochs.length > 0);
  // popularity of the training data
  const counts = new Float64Array(50);
  for (const s of sequences) for (const i of s) counts[i]++;
  const popularTop = counts.indexOf(Math.max(...counts));

  const rand = mulberry32(99);
  const histories: Int32Array[] = [];
  const wanted: number[] = [];
  for (let t = 0; t < 100; t++) {
    const k = t % 10;
    const prefix = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => 21 + Math.floor(rand() * 29));
    histories.push(Int32Array.from([...prefix, k]));
    wanted.push(k + 10);
  }
  const scores = model.scoreAll(model.encodeUsers(histories), histories.length);
  let modelHits = 0;
  let popularHits = 0;
  histories.forEach((_, r) => {
    const row = scores.subarray(r * 50, (r + 1) * 50);
    let best = 0;
    for (let i = 1; i < 50; i++) if (row[i] > row[best]) best = i;
    if (best === wanted[r]) modelHits++;
    if (popularTop === wanted[r]) popularHits++;
  });
  assert.ok(modelHits >= 80, `model ranked B first after A for ${modelHits}/100 histories`);
  assert.ok(popularHits <= 10, `popular ${popularHits}/100`);
  model.dispose();
});
