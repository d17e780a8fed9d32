import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SasRecNet, SequenceModel, Transitions, mulberry32, trainSequenceModel } from '@reco/model';
import { loadTensorFlow } from '@reco/tf-native';

/** The TensorFlow namespace @reco/model takes (it does not export its TF type). */
type TF = ConstructorParameters<typeof SasRecNet>[0];

export interface SyntheticModelOptions {
  numItems: number;
  dim?: number;
  /** Item ids; default `item-<i>`. */
  itemIds?: string[];
  /** Sessions used for transitions (and training). */
  sequences?: Int32Array[];
  /** Epochs of real training on `sequences` (0 = random weights). */
  epochs?: number;
  /** The item embedding table (numItems x dim) instead of random initial values (not with epochs). */
  itemEmbeddings?: Float32Array;
  blendWeight?: number;
  seed?: number;
  tf?: TF;
}

/**
 * A small SASRec model for tests and benchmarks, saved as a real artifact directory: random
 * (or briefly trained) weights, item transitions counted from synthetic sessions where
 * neighbouring item indices follow each other, and a blend weight, so that the served scorer
 * has both of its parts. Returns the directory and its file:// URI.
 */
export async function writeSyntheticModel(
  version: string,
  opts: SyntheticModelOptions,
): Promise<{ dir: string; uri: string; itemIds: string[] }> {
  const dim = opts.dim ?? 16;
  const rand = mulberry32(opts.seed ?? 7);
  const itemIds = opts.itemIds ?? Array.from({ length: opts.numItems }, (_, i) => `item-${i}`);
  const sequences =
    opts.sequences ??
    Array.from({ length: Math.min(2000, opts.numItems * 2) }, () => {
      let cur = Math.floor(rand() * opts.numItems);
      const s = new Int32Array(8);
      for (let j = 0; j < s.length; j++) {
        s[j] = cur;
        cur = (cur + 1 + Math.floor(rand() * 3)) % opts.numItems;
      }
      return s;
    });
  let model: SequenceModel;
  if (opts.epochs && opts.epochs > 0) {
    ({ model } = await trainSequenceModel(
      { itemIds, sequences },
      {
        dim,
        heads: 1,
        blocks: 1,
        maxLen: 20,
        ffnDim: dim * 2,
        epochs: opts.epochs,
        patience: 0,
        tf: opts.tf,
        log: () => undefined,
      },
    ));
  } else {
    const tf = opts.tf ?? (loadTensorFlow({ purpose: 'serve' }) as unknown as TF);
    const net = new SasRecNet(
      tf,
      {
        numItems: itemIds.length,
        dim,
        blocks: 1,
        heads: 1,
        maxLen: 20,
        ffnDim: dim * 2,
        dropout: 0,
        contentVocab: 0,
      },
      { rand, init: opts.itemEmbeddings ? new Map([['item_emb', opts.itemEmbeddings]]) : undefined },
    );
    model = new SequenceModel({ tf, net, itemIds });
  }
  model.transitions = Transitions.count(sequences, itemIds.length);
  model.blend = { weight: opts.blendWeight ?? 1, transform: 'log1p' };
  const parent = mkdtempSync(join(tmpdir(), 'reco-model-'));
  removeAtExit(parent);
  const dir = join(parent, version);
  await model.save(dir, { version, dataWatermark: 'synthetic', metrics: {} });
  model.dispose();
  return { dir, uri: pathToFileURL(dir).href, itemIds };
}

const written: string[] = [];

/**
 * Synthetic models are tens of megabytes at bench size, and runs left hundreds behind: they go
 * when the process that wrote them (a test or a benchmark, which the services reading them do
 * not outlive) exits.
 */
function removeAtExit(dir: string): void {
  if (written.length === 0)
    process.once('exit', () => {
      for (const d of written) rmSync(d, { recursive: true, force: true });
    });
  written.push(dir);
}
