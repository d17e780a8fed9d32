import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_NET, DEFAULT_TRAIN, type TrainingCheckpoint } from '@reco/model';
import { CheckpointStore, type CheckpointRun } from './checkpoint-store';

const checkpoint = (epoch: number): TrainingCheckpoint => ({
  epoch,
  net: { ...DEFAULT_NET, numItems: 3, contentVocab: 0 },
  train: DEFAULT_TRAIN,
  inputFingerprint: 'abc',
  bestEpoch: epoch,
  bestValNdcg10: 0.5,
  epochsSinceBest: 0,
  randomState: 7,
  trainSeconds: epoch,
  lastValidationSeconds: 0.1,
  epochs: Array.from({ length: epoch }, (_, i) => ({ epoch: i + 1, loss: 1, seconds: 1, steps: 2 })),
  optimizerIterations: 2 * epoch,
  weights: new Map([['w', Float32Array.from([epoch, 2, 3])]]),
  adamFirstMoments: new Map([['w', Float32Array.from([0.1, 0.2, 0.3])]]),
  adamSecondMoments: new Map([['w', Float32Array.from([1, 2, 3])]]),
});
const run = (runId: string): CheckpointRun => ({
  runId,
  startedAt: '2026-01-01T00:00:00.000Z',
  watermarks: { 'reco.events.clean.v1': { 0: '120' } },
  warmStartedFrom: 'sasrec-1',
});

test('one checkpoint per run, the latest epoch; a half-written one is ignored; prune keeps one run', async () => {
  const store = new CheckpointStore(await mkdtemp(join(tmpdir(), 'checkpoints-')));
  assert.equal(await store.latest(), undefined);
  await store.save(run('run-1'), checkpoint(1));
  await store.save(run('run-1'), checkpoint(2));
  assert.deepEqual(await readdir(join(store.root, 'run-1')), ['epoch-00002'], 'older epochs are deleted');
  // a crash while writing epoch 3 leaves a staging folder: epoch 2 is still the checkpoint
  await mkdir(join(store.root, 'run-1', '.staging-epoch-00003'));
  await writeFile(join(store.root, 'run-1', '.staging-epoch-00003', 'tensors.bin'), 'partial');
  const saved = await store.latest();
  assert.ok(saved);
  assert.equal(saved.epoch, 2);
  assert.deepEqual(saved.run, run('run-1'));
  assert.equal(saved.info.optimizerIterations, 4);
  const loaded = await saved.load();
  assert.deepEqual([...loaded.weights.get('w')!], [2, 2, 3]);
  assert.deepEqual([...loaded.adamSecondMoments.get('w')!], [1, 2, 3]);
  assert.equal(loaded.bestWeights, undefined);

  // the newest run is the one to resume; prune drops the others
  await store.save(run('run-2'), checkpoint(1));
  assert.equal((await store.latest())?.run.runId, 'run-2');
  await store.prune('run-2');
  assert.deepEqual(await readdir(store.root), ['run-2']);
  await store.remove('run-2');
  assert.equal(await store.latest(), undefined);
  await assert.rejects(store.save(run('../evil'), checkpoint(1)), /invalid run id/);
});
