import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import {
  checkpointMismatch,
  loadCheckpoint,
  readCheckpointInfo,
  saveCheckpoint,
  type TrainingCheckpoint,
} from './checkpoint';
import { mulberry32, resumableRand } from './rng';
import type { SequenceModel } from './sequence-model';
import { silent, testTf } from './test-util';
import {
  CheckpointMismatchError,
  TrainingAbortedError,
  trainSequenceModel,
  type FitInput,
  type FitSettings,
} from './trainer';

const tf = testTf();

/** Tiny planted data: item k is usually followed by k + 1. */
function data(users: number, items: number, seed: number): FitInput {
  const rand = mulberry32(seed);
  const itemIds = Array.from({ length: items }, (_, i) => `i${i}`);
  const seqs = Array.from({ length: users }, () => {
    let k = Math.floor(rand() * items);
    return Int32Array.from({ length: 4 + Math.floor(rand() * 4) }, () =>
      rand() < 0.8 ? (k = (k + 1) % items) : (k = Math.floor(rand() * items)),
    );
  });
  return {
    itemIds,
    sequences: seqs.map((s) => s.subarray(0, s.length - 1)),
    validation: seqs
      .slice(0, 40)
      .map((s) => ({ history: s.subarray(0, s.length - 1), target: s[s.length - 1]! })),
  };
}

// dropout and sampled negatives draw from the run's random stream: a resume must continue it
const SETTINGS: FitSettings = {
  tf,
  dim: 8,
  blocks: 1,
  heads: 2,
  maxLen: 6,
  ffnDim: 16,
  dropout: 0.2,
  negatives: 5,
  learningRate: 0.01,
  batchSize: 16,
  epochs: 6,
  patience: 0,
  seed: 11,
  log: silent,
};

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};
/**
 * Largest weight difference between two models, leaving out the attention key biases: they
 * cannot change the output (softmax ignores a per-query constant), so their gradient is float
 * noise that Adam's normalisation magnifies; they differ after any last-bit difference.
 */
const weightDiff = (a: SequenceModel, b: SequenceModel) => {
  const wb = b.net.snapshot();
  let m = 0;
  for (const [name, x] of a.net.snapshot())
    if (!name.includes('attn.bk')) m = Math.max(m, maxAbsDiff(x, wb.get(name)!));
  return m;
};
const outputDiff = (a: SequenceModel, b: SequenceModel, probe: Int32Array[]) =>
  Math.max(
    maxAbsDiff(a.encodeUsers(probe), b.encodeUsers(probe)),
    maxAbsDiff(a.itemEmbeddings(), b.itemEmbeddings()),
  );

test('resumableRand draws what mulberry32 draws and continues from its state', () => {
  const a = resumableRand(42);
  const b = mulberry32(42);
  for (let i = 0; i < 5; i++) assert.equal(a(), b());
  const c = resumableRand(a.state());
  for (let i = 0; i < 5; i++) assert.equal(c(), b());
});

test('an abort stops training between steps, mid-epoch and promptly; no model unless asked', async () => {
  const input = data(3000, 20, 1);
  const controller = new AbortController();
  let stepsAfterAbort = 0;
  let abortedAt = 0;
  const epochsSeen: number[] = [];
  setTimeout(() => {
    abortedAt = Date.now();
    controller.abort();
  }, 150);
  const err = await trainSequenceModel(input, {
    ...SETTINGS,
    batchSize: 4, // ~750 steps per epoch: the abort lands inside the first one
    epochs: 1000,
    logEvery: 1,
    log: (message) => {
      if (message === 'sasrec: step' && abortedAt) stepsAfterAbort++;
    },
    onEpoch: (e) => epochsSeen.push(e.epoch),
    signal: controller.signal,
  }).then(
    () => assert.fail('an aborted run must not return a model'),
    (e: unknown) => e,
  );
  const stoppedWithin = Date.now() - abortedAt;
  assert.ok(err instanceof TrainingAbortedError, String(err));
  assert.ok(abortedAt > 0, 'the timer fired while training: training yields to the event loop');
  assert.ok(stoppedWithin < 1000, `stopped ${stoppedWithin} ms after the abort`);
  assert.ok(stepsAfterAbort <= 1, `${stepsAfterAbort} steps ran after the abort`);
  assert.deepEqual(epochsSeen, [], 'the first epoch did not finish');
  assert.equal(err.lastCompletedEpoch, 0);

  // Asked for it, an aborted run returns the best model of the completed epochs.
  const again = new AbortController();
  const { model, report } = await trainSequenceModel(data(200, 20, 1), {
    ...SETTINGS,
    epochs: 1000,
    signal: again.signal,
    onAbort: 'return-best',
    onEpoch: (e) => {
      if (e.epoch === 2) again.abort();
    },
  });
  assert.equal(report.stoppedBy, 'aborted');
  assert.deepEqual(
    report.epochs.map((e) => e.epoch),
    [1, 2],
  );
  assert.equal(model.encodeUsers([Int32Array.from([1, 2])]).length, 8);
  model.dispose();
});

test('a run interrupted after epoch 3 of 6 and resumed from its saved checkpoint continues the same run', async () => {
  const input = data(200, 20, 2);
  const dir = mkdtempSync(join(tmpdir(), 'reco-checkpoint-'));
  try {
    // the reference: the same run, never interrupted
    const reference = await trainSequenceModel(input, SETTINGS);

    const controller = new AbortController();
    const interrupted = await trainSequenceModel(input, {
      ...SETTINGS,
      signal: controller.signal,
      onCheckpoint: (cp) => {
        saveCheckpoint(join(dir, `epoch-${cp.epoch}`), cp);
        if (cp.epoch === 3) controller.abort();
      },
    }).catch((e: unknown) => e);
    assert.ok(interrupted instanceof TrainingAbortedError);
    assert.equal(interrupted.lastCompletedEpoch, 3);

    const info = readCheckpointInfo(join(dir, 'epoch-3'));
    assert.equal(info.epoch, 3);
    assert.equal(info.epochs.length, 3);
    assert.ok(info.optimizerIterations > 0);
    const cp = loadCheckpoint(join(dir, 'epoch-3'));
    assert.equal(cp.adamFirstMoments.size, cp.weights.size, 'Adam moments are saved for every weight');

    const later: TrainingCheckpoint[] = [];
    const resumed = await trainSequenceModel(input, {
      ...SETTINGS,
      resumeFrom: cp,
      onCheckpoint: (c) => void later.push(c),
    });
    const { report } = resumed;
    assert.equal(report.resumedFromEpoch, 3);
    assert.deepEqual(
      report.epochs.map((e) => e.epoch),
      [1, 2, 3, 4, 5, 6],
      'epoch numbering continues; 6 epochs in all',
    );
    assert.deepEqual(
      later.map((c) => c.epoch),
      [4, 5, 6],
    );
    assert.deepEqual(report.epochs.slice(0, 3), cp.epochs, 'the first epochs are the checkpoint’s');
    assert.ok(later[0]!.optimizerIterations > cp.optimizerIterations, 'Adam’s step count continues');
    assert.ok(report.trainSeconds >= cp.trainSeconds, 'time spent before the interruption counts');
    // Same shuffles, dropout, negatives and Adam state: the resumed run follows the reference.
    for (let i = 3; i < 6; i++) {
      const a = report.epochs[i]!;
      const b = reference.report.epochs[i]!;
      assert.ok(Math.abs(a.loss - b.loss) < 1e-4, `epoch ${i + 1} loss ${a.loss} vs ${b.loss} uninterrupted`);
    }
    assert.equal(report.bestEpoch, reference.report.bestEpoch);
    const weights = weightDiff(resumed.model, reference.model);
    assert.ok(weights < 1e-5, `final weights differ by ${weights} from the uninterrupted run`);
    const outputs = outputDiff(resumed.model, reference.model, input.sequences.slice(0, 20));
    assert.ok(outputs < 1e-4, `user and item vectors differ by ${outputs} from the uninterrupted run`);

    // Without the Adam moments (a fresh optimizer) the path visibly departs: they matter.
    const freshAdam = await trainSequenceModel(input, {
      ...SETTINGS,
      resumeFrom: { ...cp, adamFirstMoments: new Map(), adamSecondMoments: new Map() },
    });
    const departed = weightDiff(freshAdam.model, reference.model);
    assert.ok(departed > 1e-3, `a restarted Adam ends ${departed} away from the uninterrupted run`);

    reference.model.dispose();
    resumed.model.dispose();
    freshAdam.model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a resumed run keeps the best weights so far, its patience counter and its time budget', async () => {
  const input = data(120, 20, 3);
  let cp: TrainingCheckpoint | undefined;
  const first = await trainSequenceModel(input, {
    ...SETTINGS,
    epochs: 3,
    onCheckpoint: (c) => void (cp = c),
  });
  first.model.dispose();
  assert.ok(cp);
  const dir = mkdtempSync(join(tmpdir(), 'reco-checkpoint-'));
  try {
    // best weights of an earlier epoch survive the round trip to disk
    const earlierBest = { ...cp, bestEpoch: 1, bestWeights: new Map(cp.weights) };
    earlierBest.bestWeights.set('ln_f.b', new Float32Array(8).fill(0.5));
    saveCheckpoint(dir, earlierBest);
    const loaded = loadCheckpoint(dir);
    // all 3 epochs are done: nothing to train, the model is the best epoch's weights
    const done = await trainSequenceModel(input, { ...SETTINGS, epochs: 3, resumeFrom: loaded });
    assert.equal(done.report.bestEpoch, 1);
    assert.deepEqual([...done.model.net.snapshot().get('ln_f.b')!], new Array(8).fill(0.5));
    assert.equal(done.report.epochs.length, 3);
    done.model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // patience already used up when checkpointed: the run is over
  const patient = await trainSequenceModel(input, {
    ...SETTINGS,
    patience: 2,
    resumeFrom: { ...cp, epochsSinceBest: 2 },
  });
  assert.equal(patient.report.stoppedBy, 'patience');
  assert.equal(patient.report.epochs.length, 3);
  patient.model.dispose();
  // the time spent before the interruption counts against the budget
  const late = await trainSequenceModel(input, {
    ...SETTINGS,
    maxTrainMinutes: 1,
    resumeFrom: { ...cp, trainSeconds: 120 },
  });
  assert.equal(late.report.stoppedBy, 'time');
  assert.equal(late.report.epochs.length, 3);
  late.model.dispose();
});

test('a checkpoint resumes only the same data and settings (stopping rules may change)', async () => {
  const input = data(80, 20, 4);
  let cp: TrainingCheckpoint | undefined;
  (
    await trainSequenceModel(input, { ...SETTINGS, epochs: 1, onCheckpoint: (c) => void (cp = c) })
  ).model.dispose();
  assert.ok(cp);
  assert.equal(checkpointMismatch(cp, input, { ...SETTINGS, epochs: 50, patience: 3 }), undefined);
  assert.match(checkpointMismatch(cp, input, { ...SETTINGS, dim: 16 }) ?? '', /dim/);
  assert.match(checkpointMismatch(cp, input, { ...SETTINGS, learningRate: 0.1 }) ?? '', /learningRate/);
  const changed = { ...input, sequences: input.sequences.map((s, i) => (i === 7 ? s.slice(1) : s)) };
  assert.match(checkpointMismatch(cp, changed, SETTINGS) ?? '', /data differ/);
  await assert.rejects(trainSequenceModel(changed, { ...SETTINGS, resumeFrom: cp }), CheckpointMismatchError);
});
