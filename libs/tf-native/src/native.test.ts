// The native TensorFlow backend (tfjs-node on TF's C library): loads, trains, saves and reloads.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { loadTensorFlow, type TensorFlow, tensorFlowInfo, type TfLogger } from './index';

const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
const logger: TfLogger = {
  info: (message, fields) => lines.push({ level: 'info', message, fields }),
  warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
};

describe('native TensorFlow backend', () => {
  let tf: TensorFlow;
  let dir: string;
  before(() => {
    tf = loadTensorFlow({ purpose: 'train', device: 'cpu', backend: 'native', allowPureJs: false, logger });
    dir = mkdtempSync(join(tmpdir(), 'tf-native-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the tensorflow backend and logs versions and devices', () => {
    assert.equal(tf.getBackend(), 'tensorflow');
    const info = tensorFlowInfo();
    assert.ok(info);
    assert.equal(info.kind, 'native');
    assert.equal(info.npmPackage, '@tensorflow/tfjs-node');
    assert.equal(info.tfjsVersion, '4.22.0');
    assert.match(info.nativeTensorFlowVersion ?? '', /^2\.\d+\.\d+/);
    assert.match(info.devices[0], /^CPU:0/);
    const ready = lines.find((l) => l.message === 'tensorflow backend ready');
    assert.ok(ready, 'start-up line logged');
    assert.equal(ready.fields?.backend, 'tensorflow');
    assert.equal(ready.fields?.nativeTensorFlowVersion, info.nativeTensorFlowVersion);
    assert.ok(Array.isArray(ready.fields?.devices));
  });

  it('has the kernels the recommender needs (unsortedSegmentSum, which wasm lacks)', () => {
    const out = tf.tidy(() =>
      tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3, 4]), tf.tensor1d([0, 1, 0, 1], 'int32'), 2).arraySync(),
    );
    assert.deepEqual(out, [4, 6]);
  });

  const N_ITEMS = 20;
  const SEQ = 3;
  const buildModel = () => {
    const model = tf.sequential();
    model.add(
      tf.layers.embedding({
        inputDim: N_ITEMS,
        outputDim: 16,
        inputLength: SEQ,
        embeddingsInitializer: tf.initializers.randomUniform({ minval: -0.05, maxval: 0.05, seed: 1 }),
      }),
    );
    model.add(tf.layers.globalAveragePooling1d());
    model.add(
      tf.layers.dense({
        units: 32,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
    );
    model.add(
      tf.layers.dense({
        units: N_ITEMS,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
    );
    model.compile({
      optimizer: tf.train.adam(0.03),
      loss: 'sparseCategoricalCrossentropy',
      metrics: ['accuracy'],
    });
    return model;
  };
  // Next item after a session of 3 consecutive items: (i+3) mod 20.
  const xs = () =>
    tf.tensor2d(
      Array.from({ length: N_ITEMS }, (_, i) => [i, (i + 1) % N_ITEMS, (i + 2) % N_ITEMS]),
      [N_ITEMS, SEQ],
      'int32',
    );
  const ys = () =>
    tf.tensor1d(
      Array.from({ length: N_ITEMS }, (_, i) => (i + 3) % N_ITEMS),
      'float32',
    );

  let trained: ReturnType<typeof buildModel>;
  it('trains a small next-item model to a loss below 0.05 (from ln 20 = 3.0)', async () => {
    trained = buildModel();
    const x = xs();
    const y = ys();
    const h = await trained.fit(x, y, { epochs: 60, batchSize: N_ITEMS, shuffle: false, verbose: 0 });
    x.dispose();
    y.dispose();
    const losses = h.history.loss as number[];
    assert.ok(losses[0] > 2.5, `initial loss ${losses[0]}`);
    const last = losses[losses.length - 1];
    assert.ok(last < 0.05, `final loss ${last} should be < 0.05`);
  });

  it('saves with file:// and the reloaded model predicts the same numbers', async () => {
    const url = `file://${join(dir, 'next-item')}`;
    const saved = await trained.save(url);
    assert.ok((saved.modelArtifactsInfo.weightDataBytes ?? 0) > 0);
    const reloaded = await tf.loadLayersModel(`${url}/model.json`);
    const x = xs();
    const a = trained.predict(x) as ReturnType<typeof tf.tensor>;
    const b = reloaded.predict(x) as ReturnType<typeof tf.tensor>;
    const pa = a.dataSync();
    const pb = b.dataSync();
    assert.equal(pa.length, N_ITEMS * N_ITEMS);
    let maxDiff = 0;
    for (let i = 0; i < pa.length; i++) maxDiff = Math.max(maxDiff, Math.abs(pa[i] - pb[i]));
    assert.ok(maxDiff < 1e-6, `max |diff| ${maxDiff}`);
    const top = tf.tidy(() => a.argMax(-1).arraySync() as number[]);
    assert.deepEqual(
      top,
      Array.from({ length: N_ITEMS }, (_, i) => (i + 3) % N_ITEMS),
    );
    tf.dispose([x, a, b]);
  });

  it('returns the same namespace on a second call and refuses to switch backend', () => {
    assert.equal(loadTensorFlow({ purpose: 'serve', device: 'cpu', backend: 'native', logger }), tf);
    assert.throws(
      () => loadTensorFlow({ purpose: 'serve', device: 'gpu', backend: 'native', logger }),
      /already loaded/,
    );
  });
});
