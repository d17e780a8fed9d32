import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { resolveFitConfig, type NetConfig, type TrainConfig } from './config';
import type { EpochLog, FitInput, FitSettings } from './trainer';
import { bytes, readWeightsFile, writeWeightsFile, type WeightEntry } from './weights-file';

export const CHECKPOINT_FORMAT = 'reco.training-checkpoint';
export const CHECKPOINT_FORMAT_VERSION = 1;

/** Everything about a checkpoint except its tensors (what `checkpoint.json` holds). */
export interface CheckpointInfo {
  /** The last completed epoch; a resumed run continues with the next one. */
  epoch: number;
  net: NetConfig;
  train: TrainConfig;
  /** Hash of the training inputs (`fitInputFingerprint`): a checkpoint continues the same data only. */
  inputFingerprint: string;
  bestEpoch: number;
  bestValNdcg10: number | null;
  /** Validations since the best one (the patience counter). */
  epochsSinceBest: number;
  /** State of the run's random stream (shuffles, dropout seeds, negatives) after this epoch. */
  randomState: number;
  /** Training time spent so far (counts against `maxTrainMinutes` when resumed). */
  trainSeconds: number;
  lastValidationSeconds: number;
  /** Logs of the completed epochs. */
  epochs: EpochLog[];
  /** Adam's step counter (its bias correction depends on it). */
  optimizerIterations: number;
}

/** The state of a training run after an epoch: enough to continue it as if never stopped. */
export interface TrainingCheckpoint extends CheckpointInfo {
  /** Net weights by name, as after `epoch`. */
  weights: ReadonlyMap<string, Float32Array>;
  /** Weights of the best validated epoch (absent without validation: the latest weights are the model). */
  bestWeights?: ReadonlyMap<string, Float32Array>;
  /** Adam's first and second moments by weight name (empty before its first step). */
  adamFirstMoments: ReadonlyMap<string, Float32Array>;
  adamSecondMoments: ReadonlyMap<string, Float32Array>;
}

interface CheckpointFile extends CheckpointInfo {
  format: string;
  formatVersion: number;
  createdAt: string;
  /** 'current' when the best weights are the latest ones (stored once). */
  best: 'none' | 'current' | 'stored';
  tensors: WeightEntry[];
}

const SETS = {
  weights: 'weights/',
  best: 'best/',
  adamM: 'adam.m/',
  adamV: 'adam.v/',
} as const;

/**
 * Writes a checkpoint into `dir` (`tensors.bin` in the artifact's weights-file layout, then
 * `checkpoint.json`, written last). Making it appear atomically is up to the caller.
 */
export function saveCheckpoint(dir: string, cp: TrainingCheckpoint): void {
  mkdirSync(dir, { recursive: true });
  const { weights, bestWeights, adamFirstMoments, adamSecondMoments, ...info } = cp;
  const tensors: { name: string; shape: number[]; values: Float32Array }[] = [];
  const add = (prefix: string, set: ReadonlyMap<string, Float32Array>) => {
    for (const [name, values] of set) tensors.push({ name: prefix + name, shape: [values.length], values });
  };
  const best = bestWeights === undefined ? 'none' : bestWeights === weights ? 'current' : 'stored';
  add(SETS.weights, weights);
  if (best === 'stored') add(SETS.best, bestWeights!);
  add(SETS.adamM, adamFirstMoments);
  add(SETS.adamV, adamSecondMoments);
  const file: CheckpointFile = {
    format: CHECKPOINT_FORMAT,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    ...info,
    best,
    tensors: writeWeightsFile(join(dir, 'tensors.bin'), tensors),
  };
  writeFileSync(join(dir, 'checkpoint.json'), JSON.stringify(file));
}

function readFile(dir: string): CheckpointFile {
  const f = JSON.parse(readFileSync(join(dir, 'checkpoint.json'), 'utf8')) as CheckpointFile;
  if (f.format !== CHECKPOINT_FORMAT) throw new Error(`${dir}: not a ${CHECKPOINT_FORMAT}`);
  if (f.formatVersion !== CHECKPOINT_FORMAT_VERSION)
    throw new Error(`${dir}: checkpoint format version ${f.formatVersion} is not supported`);
  return f;
}

/** Reads what a checkpoint is (epoch, settings, data fingerprint) without its tensors. */
export function readCheckpointInfo(dir: string): CheckpointInfo {
  const { format: _f, formatVersion: _v, createdAt: _c, best: _b, tensors: _t, ...info } = readFile(dir);
  return info;
}

export function loadCheckpoint(dir: string): TrainingCheckpoint {
  const { format: _f, formatVersion: _v, createdAt: _c, best, tensors, ...info } = readFile(dir);
  const all = readWeightsFile(join(dir, 'tensors.bin'), tensors);
  const set = (prefix: string) => {
    const out = new Map<string, Float32Array>();
    for (const [name, values] of all) if (name.startsWith(prefix)) out.set(name.slice(prefix.length), values);
    return out;
  };
  const weights = set(SETS.weights);
  return {
    ...info,
    weights,
    bestWeights: best === 'none' ? undefined : best === 'current' ? weights : set(SETS.best),
    adamFirstMoments: set(SETS.adamM),
    adamSecondMoments: set(SETS.adamV),
  };
}

/**
 * A hash of everything a run trains on (items and their order, sequences, target weights,
 * validation cases, content): equal fingerprints mean a checkpoint fits the data.
 */
export function fitInputFingerprint(input: FitInput): string {
  const h = createHash('sha256');
  const text = (s: string) => h.update(s).update('\0');
  const array = (a: Int32Array | Float32Array) => {
    text(`${a.constructor.name}:${a.length}`);
    h.update(bytes(a));
  };
  text(`items:${input.itemIds.length}`);
  for (const id of input.itemIds) text(id);
  text(`sequences:${input.sequences.length}`);
  for (const s of input.sequences) array(s);
  text(`weights:${input.weights?.length ?? -1}`);
  for (const w of input.weights ?? []) {
    if (w) array(w);
    else text('-');
  }
  text(`validation:${input.validation?.length ?? 0}`);
  for (const c of input.validation ?? []) {
    array(c.history);
    text(String(c.target));
  }
  text(`content:${input.content?.size ?? 0}`);
  if (input.content) for (const id of input.itemIds) text(JSON.stringify(input.content.get(id) ?? null));
  return h.digest('hex');
}

/**
 * Settings that shape the optimisation path; a checkpoint continues only a run with the same
 * ones. Stopping rules (epochs, patience, maxTrainMinutes) and logging may change.
 */
const PATH_SETTINGS = ['seed', 'learningRate', 'batchSize', 'negatives', 'validationUsers'] as const;
const ARCHITECTURE = ['dim', 'blocks', 'heads', 'maxLen', 'ffnDim', 'dropout'] as const;

/** Why a checkpoint cannot continue a run on this input with these settings (undefined: it can). */
export function checkpointMismatch(
  info: CheckpointInfo,
  input: FitInput,
  settings: FitSettings,
  inputFingerprint: string = fitInputFingerprint(input),
): string | undefined {
  const settingsWhy = checkpointSettingsMismatch(info, settings);
  if (settingsWhy) return settingsWhy;
  if (info.net.numItems !== input.itemIds.length)
    return `the checkpoint has ${info.net.numItems} items, the data ${input.itemIds.length}`;
  if (info.inputFingerprint !== inputFingerprint) return 'the training data differ from the checkpoint’s';
  return undefined;
}

/** The settings part of `checkpointMismatch` (it needs no data, so can be checked first). */
export function checkpointSettingsMismatch(info: CheckpointInfo, settings: FitSettings): string | undefined {
  const { net, train } = resolveFitConfig(settings);
  for (const k of ARCHITECTURE)
    if (info.net[k] !== net[k]) return `architecture setting ${k} differs (${info.net[k]} → ${net[k]})`;
  for (const k of PATH_SETTINGS)
    if (info.train[k] !== train[k]) return `training setting ${k} differs (${info.train[k]} → ${train[k]})`;
  return undefined;
}
