import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { contentTokens, type ItemContent } from './content';
import { mulberry32 } from './rng';
import { testTf, silent } from './test-util';
import { trainSequenceModel } from './trainer';

const cos = (e: Float32Array, dim: number, a: number, b: Float32Array | number): number => {
  const vb = typeof b === 'number' ? e.subarray(b * dim, (b + 1) * dim) : b;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let k = 0; k < dim; k++) {
    const x = e[a * dim + k];
    dot += x * vb[k];
    na += x * x;
    nb += vb[k] * vb[k];
  }
  return dot / Math.sqrt(na * nb);
};

test('content tokens: category prefixes, brand, price band, title words', () => {
  assert.deepEqual(
    contentTokens({ category: 'Beauty > Makeup', brand: 'Acme ', price: 7, title: 'Red lipstick, red!' }),
    [['cat:beauty', 'cat:beauty>makeup'], ['brand:acme'], ['price:b3'], ['title:red', 'title:lipstick']],
  );
  assert.deepEqual(contentTokens({}), []);
});

test('cold start: an item with zero interactions gets a non-zero embedding closer to its category/brand', async () => {
  const tf = testTf();
  // 40 items in 4 categories of 10 (2 brands each); users browse within one category
  const n = 40;
  const itemIds = Array.from({ length: n }, (_, i) => `sku${i}`);
  const content = new Map<string, ItemContent>();
  for (let i = 0; i < n; i++) {
    const c = Math.floor(i / 10);
    content.set(itemIds[i], {
      category: ['Shop', `Cat${c}`],
      brand: `Brand${c * 2 + (i % 2)}`,
      price: 5 + c * 40,
    });
  }
  const cold = 39; // category 3, brand 7: nobody interacts with it
  const rand = mulberry32(11);
  const sequences: Int32Array[] = [];
  for (let u = 0; u < 300; u++) {
    const c = u % 4;
    sequences.push(
      Int32Array.from({ length: 4 + Math.floor(rand() * 5) }, () => {
        let i;
        do i = c * 10 + Math.floor(rand() * 10);
        while (i === cold);
        return i;
      }),
    );
  }
  const { model } = await trainSequenceModel(
    { itemIds, sequences, content },
    {
      tf,
      dim: 16,
      blocks: 1,
      heads: 1,
      maxLen: 8,
      ffnDim: 16,
      dropout: 0.1,
      learningRate: 0.01,
      batchSize: 32,
      epochs: 15,
      patience: 0,
      seed: 4,
      log: silent,
    },
  );
  assert.ok(model.content && model.config.contentVocab > 0);
  const e = model.itemEmbeddings();
  const d = model.dim;
  const coldVec = e.subarray(cold * d, (cold + 1) * d);
  assert.ok(
    coldVec.some((x) => Math.abs(x) > 1e-4),
    'cold item embedding must be non-zero',
  );
  const same: number[] = [];
  const other: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i === cold) continue;
    (Math.floor(i / 10) === 3 ? same : other).push(cos(e, d, cold, i));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(
    mean(same) > mean(other) + 0.2,
    `same category ${mean(same).toFixed(3)} vs others ${mean(other).toFixed(3)}`,
  );
  // the cold item's embedding is its content embedding (no ID part), same as a brand-new item with that content
  const fresh = model.embedContent(content.get(itemIds[cold])!);
  for (let k = 0; k < d; k++) assert.ok(Math.abs(fresh[k] - coldVec[k]) < 1e-5);
  // and a new item of category 1 is closer to category 1
  const newItem = model.embedContent({ category: ['Shop', 'Cat1'], brand: 'Brand2', price: 45 });
  const sim = (c: number) => mean(Array.from({ length: 10 }, (_, j) => cos(e, d, c * 10 + j, newItem)));
  assert.ok(sim(1) > Math.max(sim(0), sim(2), sim(3)));
  model.dispose();
});
