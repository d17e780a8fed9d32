#!/usr/bin/env node
// pnpm bench:tf — the same training step and a 1024x1024 matmul on native
// TensorFlow (tfjs-node) and on tfjs' pure-JS cpu backend, in one run.
// Model: embedding(5000 items, 64) -> mean over a 10-item session -> dense 128 relu
//        -> dense 5000 softmax; sparse categorical cross-entropy; Adam; batch 256.
// Env: BENCH_NATIVE_STEPS (default 30), BENCH_JS_STEPS (default 2), BENCH_MATMUL_REPS (default 20/3),
//      BENCH_STRICT=1 (exit 1 when the training-step speed-up is below 20x).
// The pure-JS step takes minutes: its embedding gradient (unsortedSegmentSum over 5,000
// segments) is implemented per segment in tfjs-backend-cpu. A second measurement with the
// embedding frozen shows the speed-up on the dense part alone.
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';

const require = createRequire(import.meta.url);
const { loadTensorFlow, tensorFlowInfo } = require('../dist/index.js');

const ITEMS = 5000;
const DIM = 64;
const SEQ = 10;
const BATCH = 256;
const NATIVE_STEPS = Math.max(1, Number(process.env.BENCH_NATIVE_STEPS ?? 30));
const JS_STEPS = Math.max(1, Number(process.env.BENCH_JS_STEPS ?? 2));
const quiet = { info: () => {}, warn: () => {} };

const tf = loadTensorFlow({ purpose: 'train', device: 'cpu', backend: 'native', logger: quiet });
const info = tensorFlowInfo();

function buildModel(frozenEmbedding = false) {
  const model = tf.sequential();
  model.add(
    tf.layers.embedding({ inputDim: ITEMS, outputDim: DIM, inputLength: SEQ, trainable: !frozenEmbedding }),
  );
  model.add(tf.layers.globalAveragePooling1d());
  model.add(tf.layers.dense({ units: 128, activation: 'relu' }));
  model.add(tf.layers.dense({ units: ITEMS, activation: 'softmax' }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy' });
  return model;
}

function stats(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { mean, median, min: s[0], n: ms.length };
}

async function trainSteps(model, steps, warmUp) {
  const x = tf.randomUniform([BATCH, SEQ], 0, ITEMS, 'int32', 7);
  const y = tf.randomUniform([BATCH], 0, ITEMS, 'int32', 8).cast('float32');
  const step = async () => {
    const t = process.hrtime.bigint();
    const loss = await model.trainOnBatch(x, y); // resolves once the step is computed (loss read back)
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (!Number.isFinite(Array.isArray(loss) ? loss[0] : loss)) throw new Error('non-finite loss');
    return ms;
  };
  if (warmUp) await step(); // kernel set-up, optimizer slots
  const ms = [];
  for (let i = 0; i < steps; i++) ms.push(await step());
  tf.dispose([x, y]);
  model.dispose();
  return stats(ms);
}

function matmul(reps) {
  const a = tf.randomNormal([1024, 1024], 0, 1, 'float32', 1);
  const b = tf.randomNormal([1024, 1024], 0, 1, 'float32', 2);
  const mm = () => {
    const t = process.hrtime.bigint();
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  mm();
  const ms = [];
  for (let i = 0; i < reps; i++) ms.push(mm());
  tf.dispose([a, b]);
  return stats(ms);
}

async function benchBackend(name, { steps, warmUp, frozenSteps, matmulReps }) {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} unavailable`);
  await tf.ready();
  const mm = matmul(matmulReps);
  const frozen = await trainSteps(buildModel(true), frozenSteps, true);
  const train = await trainSteps(buildModel(false), steps, warmUp);
  return { backend: name, train, frozen, matmul: mm };
}

const f = (v) => v.toFixed(1).padStart(9);
console.log(
  `tfjs ${info.tfjsVersion}; native TensorFlow ${info.nativeTensorFlowVersion} via ${info.npmPackage} (${info.nativeSource ?? 'source unknown'})`,
);
console.log(
  `node ${process.version}; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}); ${(totalmem() / 2 ** 30).toFixed(0)} GiB; no GPU used`,
);
console.log(
  `model: embedding ${ITEMS}x${DIM} -> mean(${SEQ}) -> dense 128 relu -> dense ${ITEMS} softmax; sparse CE; Adam; batch ${BATCH}\n`,
);

const MM = Number(process.env.BENCH_MATMUL_REPS ?? 20);
const native = await benchBackend('tensorflow', {
  steps: NATIVE_STEPS,
  warmUp: true,
  frozenSteps: 10,
  matmulReps: MM,
});
// Pure JS: no warm-up for the full step (each takes minutes; there is nothing to compile).
const js = await benchBackend('cpu', {
  steps: JS_STEPS,
  warmUp: false,
  frozenSteps: 3,
  matmulReps: Math.max(1, Math.min(3, MM)),
});

const cell = (st) => `${f(st.mean)} /${f(st.median)}, n=${String(st.n).padEnd(3)}`;
console.log(
  `${'backend'.padEnd(20)}| ${'train step ms (mean / median)'.padEnd(33)}| ${'step, embedding frozen ms'.padEnd(33)}| matmul 1024x1024 ms`,
);
for (const r of [native, js]) {
  const label = r.backend === 'tensorflow' ? 'native (tensorflow)' : 'pure-JS (cpu)';
  console.log(`${label.padEnd(20)}| ${cell(r.train)} | ${cell(r.frozen)} | ${cell(r.matmul)}`);
}
const trainRatio = js.train.median / native.train.median;
const frozenRatio = js.frozen.median / native.frozen.median;
const mmRatio = js.matmul.median / native.matmul.median;
console.log(
  `\nnative speed-up (median): training step ${trainRatio.toFixed(0)}x; step with embedding frozen ${frozenRatio.toFixed(0)}x; matmul ${mmRatio.toFixed(0)}x`,
);
console.log(
  `native throughput: ${((BATCH * 1000) / native.train.median).toFixed(0)} examples/s; pure-JS: ${((BATCH * 1000) / js.train.median).toFixed(1)} examples/s`,
);
const TARGET = 20;
if (trainRatio < TARGET) {
  console.log(`WARNING: training-step speed-up ${trainRatio.toFixed(1)}x is below the ${TARGET}x target`);
  process.exitCode = process.env.BENCH_STRICT === '1' ? 1 : 0;
} else {
  console.log(`target met: >= ${TARGET}x on the training step`);
}
