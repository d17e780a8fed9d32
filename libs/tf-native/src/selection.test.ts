// Backend selection on this very machine, in a process where no TensorFlow is loaded yet.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { loadTensorFlow, probeGpu, TfBackendError, tensorFlowInfo, type TfLogger } from './index';

const quiet: TfLogger = { info: () => {}, warn: () => {} };

describe('backend selection (real probe)', () => {
  it('GPU requested without a usable GPU: throws at start-up naming what is missing', (t) => {
    const gpu = probeGpu();
    if (gpu.deviceFiles.length > 0 && gpu.driverLibrary) {
      t.skip('this machine has a GPU: covered by the pure tests in decide.test.ts');
      return;
    }
    let err: unknown;
    try {
      loadTensorFlow({ purpose: 'serve', device: 'gpu', backend: 'native', logger: quiet });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof TfBackendError, String(err));
    assert.match(err.message, /GPU requested \(RECO_TF_DEVICE=gpu\) but it cannot be used/);
    assert.match(err.message, /no NVIDIA device files/);
    assert.match(err.message, /libcuda\.so\.1 not found/);
    assert.ok(err.missing.length >= 2);
    assert.equal(tensorFlowInfo(), undefined, 'nothing was loaded');
  });

  it('RECO_TF_DEVICE=gpu from the environment is honoured', () => {
    const gpu = probeGpu();
    if (gpu.deviceFiles.length > 0 && gpu.driverLibrary) return;
    assert.throws(
      () => loadTensorFlow({ purpose: 'train', logger: quiet, env: { RECO_TF_DEVICE: 'gpu' } }),
      /GPU requested/,
    );
  });

  it('pure JS is refused for training unless explicitly allowed', () => {
    assert.throws(
      () => loadTensorFlow({ purpose: 'train', logger: quiet, env: { RECO_TF_BACKEND: 'pure-js' } }),
      (e: unknown) =>
        e instanceof TfBackendError &&
        /Refusing to train on the pure-JS/.test(e.message) &&
        /RECO_TF_ALLOW_PURE_JS=1/.test(e.message),
    );
    assert.equal(tensorFlowInfo(), undefined, 'nothing was loaded');
  });

  it('pure JS trains when allowed (RECO_TF_ALLOW_PURE_JS=1), with a warning', async () => {
    const warnings: string[] = [];
    const tf = loadTensorFlow({
      purpose: 'train',
      logger: { info: () => {}, warn: (m) => warnings.push(m) },
      env: { RECO_TF_BACKEND: 'pure-js', RECO_TF_ALLOW_PURE_JS: '1' },
    });
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal(tensorFlowInfo()?.kind, 'pure-js');
    assert.match(warnings.join('\n'), /SLOW pure-JS/);
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    const h = await model.fit(tf.tensor2d([[0], [1], [2]]), tf.tensor2d([[1], [3], [5]]), {
      epochs: 5,
      verbose: 0,
    });
    assert.equal((h.history.loss as number[]).length, 5);
    // Once loaded as pure JS, a training request without the allowance is still refused.
    assert.throws(
      () => loadTensorFlow({ purpose: 'train', logger: quiet, env: {} }),
      /Refusing to train on the pure-JS/,
    );
  });
});
