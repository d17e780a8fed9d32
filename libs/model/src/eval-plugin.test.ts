import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { ModelRegistry, parseDataset, runEvaluation } from '@reco/evaluation';

import { registerModels } from './eval-plugin';
import { mulberry32 } from './rng';

test('the plugin registers sasrec and served, which run through the evaluation harness', async () => {
  const registry = new ModelRegistry();
  registerModels(registry);
  assert.deepEqual(registry.names(), ['sasrec', 'served']);
  const rand = mulberry32(3);
  // chains 1 -> 2 -> 3 -> ... with noise
  const lines: string[] = [];
  for (let u = 1; u <= 120; u++) {
    const start = 1 + Math.floor(rand() * 20);
    const items = Array.from({ length: 5 + Math.floor(rand() * 4) }, (_, j) =>
      rand() < 0.8 ? ((start + j) % 30) + 1 : 1 + Math.floor(rand() * 30),
    );
    lines.push(`${u} ${items.join(' ')}`);
  }
  const ds = parseDataset(lines.join('\n'), 'seq', 'tiny');
  const options = {
    dim: '16',
    blocks: '1',
    heads: '1',
    maxLen: '10',
    ffnDim: '16',
    epochs: '4',
    batchSize: '32',
    lr: '0.01',
  };
  process.env.RECO_TF_ALLOW_PURE_JS ??= '1';
  for (const name of ['sasrec', 'served']) {
    const model = await registry.create(name, { seed: 1, options });
    const report = await runEvaluation(ds, model, { protocol: 'full', seed: 1 });
    assert.equal(report.model, name);
    assert.equal(report.users, 120);
    assert.ok(report['HR@10'] >= 0 && report['HR@10'] <= 1);
    await model.dispose?.();
  }
  await assert.rejects(
    async () => registry.create('sasrec', { seed: 1, options: { bogus: '1' } }),
    /unknown option/,
  );
});
