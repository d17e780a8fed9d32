import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { NetConfig } from './config';
import { ContentIndex, type ItemContent } from './content';
import { padSequences, SasRecNet } from './net';
import { Transitions } from './transitions';
import { getTf, stderrLogger, type TF } from './tf';
import { bytes, f32, i32, readWeightsFile, writeWeightsFile, type WeightEntry } from './weights-file';

export const ARTIFACT_FORMAT = 'reco.sequence-model';
export const ARTIFACT_FORMAT_VERSION = 1;

export interface ModelMeta {
  version: string;
  dataWatermark: string;
  metrics: Record<string, number>;
}

/** How the served scorer blends the transformer with item-to-item transitions. */
export interface BlendConfig {
  /** score = dot(user, item) + weight * log1p(transitionScore). */
  weight: number;
  transform: 'log1p';
}

export interface Manifest extends ModelMeta {
  format: string;
  formatVersion: number;
  createdAt: string;
  numItems: number;
  dim: number;
  weights: WeightEntry[];
  idMask: boolean;
  content: { vocabSize: number } | null;
  transitions: { window: number; lastItems: number; nnz: number } | null;
  blend: BlendConfig | null;
  /** Free-form training facts (epochs, best epoch, train seconds, ...). */
  training?: Record<string, unknown>;
  /** Interest vectors of sampled training users (`user-sample.bin`); absent in older artifacts. */
  userSample?: { count: number } | null;
}

export interface SequenceModelParts {
  tf: TF;
  net: SasRecNet;
  itemIds: readonly string[];
  idMask?: Float32Array;
  content?: ContentIndex;
  transitions?: Transitions;
  blend?: BlendConfig;
  training?: Record<string, unknown>;
  userSample?: Float32Array;
}

const ENCODE_BATCH = 1024;

/**
 * A trained sequential recommender: encodes users (item histories) into interest vectors and
 * exposes item embeddings; score = dot(user vector, item embedding). Optionally carries the
 * transition table and blend weight of the `served` scorer. Item indices are 0..numItems-1 in
 * the order of `itemIds`.
 */
export class SequenceModel {
  readonly itemIds: string[];
  readonly dim: number;
  readonly config: NetConfig;
  readonly content: ContentIndex | undefined;
  transitions: Transitions | undefined;
  blend: BlendConfig | undefined;
  training: Record<string, unknown> | undefined;
  /**
   * Interest vectors (n x dim) of a sample of the users it was trained on, at random points of
   * their histories: what serving's ANN queries look like, so an index can check its recall on
   * them (item vectors as queries overstate it).
   */
  userSample: Float32Array | undefined;
  private readonly tf: TF;
  /** @internal */ readonly net: SasRecNet;
  private readonly idMask: Float32Array | undefined;
  private readonly index: Map<string, number>;
  private cachedItems: Float32Array | undefined;

  constructor(parts: SequenceModelParts) {
    this.tf = parts.tf;
    this.net = parts.net;
    this.config = parts.net.cfg;
    this.dim = parts.net.cfg.dim;
    this.itemIds = [...parts.itemIds];
    if (this.itemIds.length !== this.config.numItems) throw new Error('itemIds length != numItems');
    this.index = new Map(this.itemIds.map((id, i) => [id, i]));
    this.idMask = parts.idMask;
    this.content = parts.content;
    this.transitions = parts.transitions;
    this.blend = parts.blend;
    this.training = parts.training;
    this.userSample = parts.userSample;
  }

  get numItems(): number {
    return this.itemIds.length;
  }

  itemIndex(id: string): number | undefined {
    return this.index.get(id);
  }

  /** Call after the weights changed (training). */
  invalidate(): void {
    this.cachedItems = undefined;
  }

  /** Item embeddings, numItems x dim row-major (cached). */
  itemEmbeddings(): Float32Array {
    if (!this.cachedItems) {
      const t = this.tf.tidy(() => this.tf.clone(this.net.itemTable()));
      this.cachedItems = (t.dataSync() as Float32Array).slice();
      t.dispose();
    }
    return this.cachedItems;
  }

  /**
   * Interest vectors (n x dim row-major) of item-index sequences in time order (latest last);
   * only the last maxLen items count. Indices outside 0..numItems-1 are dropped.
   */
  encodeUsers(sequences: readonly Int32Array[]): Float32Array {
    const tf = this.tf;
    const out = new Float32Array(sequences.length * this.dim);
    const n = this.numItems;
    const clean = sequences.map((s) => {
      for (let i = 0; i < s.length; i++)
        if (!(s[i] >= 0 && s[i] < n)) return s.filter((x) => x >= 0 && x < n);
      return s;
    });
    tf.tidy(() => {
      const table = this.net.itemTable();
      for (let start = 0; start < clean.length; start += ENCODE_BATCH) {
        const batch = clean.slice(start, start + ENCODE_BATCH);
        const { data, L } = padSequences(batch, this.config.maxLen);
        const v = tf.tidy(() => this.net.encodeLast(tf.tensor2d(data, [batch.length, L], 'int32'), table));
        out.set(v.dataSync() as Float32Array, start * this.dim);
        v.dispose();
      }
    });
    return out;
  }

  /** Dot-product scores (rows x numItems) of interest vectors with every item. */
  scoreAll(userVectors: Float32Array, rows: number): Float32Array {
    const tf = this.tf;
    // (never return a big typed array from tf.tidy: it walks every element looking for tensors)
    const s = tf.tidy(() => {
      const u = tf.tensor2d(userVectors, [rows, this.dim]);
      const items = tf.tensor2d(this.itemEmbeddings(), [this.numItems, this.dim]);
      return tf.matMul(u, items, false, true);
    });
    const out = s.dataSync() as Float32Array;
    s.dispose();
    return out;
  }

  /** Embedding of an item from its content only (e.g. a new item); zeros without a content tower. */
  embedContent(content: ItemContent): Float32Array {
    if (!this.content) return new Float32Array(this.dim);
    const enc = this.content.encode(content);
    return this.net.embedContentTokens(enc.tokens, enc.weights);
  }

  /** Writes the model as a versioned directory (fails if `dir` already holds a model). */
  async save(dir: string, meta: ModelMeta): Promise<void> {
    if (existsSync(join(dir, 'manifest.json')))
      throw new Error(`${dir} already holds a model (versions are immutable)`);
    mkdirSync(dir, { recursive: true });
    const snap = this.net.snapshot();
    const weights = writeWeightsFile(
      join(dir, 'weights.bin'),
      this.net.specs.map((s) => ({ name: s.name, shape: s.shape, values: snap.get(s.name)! })),
    );
    writeFileSync(join(dir, 'item-ids.json'), JSON.stringify(this.itemIds));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(this.config, null, 2));
    if (this.idMask) writeFileSync(join(dir, 'id-mask.bin'), bytes(this.idMask));
    if (this.content) {
      writeFileSync(join(dir, 'content-vocab.json'), JSON.stringify(this.content.vocab));
      writeFileSync(
        join(dir, 'content.bin'),
        Buffer.concat([
          bytes(this.content.itemStart),
          bytes(this.content.tokens),
          bytes(this.content.weights),
        ]),
      );
    }
    const t = this.transitions;
    if (t) {
      writeFileSync(
        join(dir, 'transitions.bin'),
        Buffer.concat([bytes(t.rowStart), bytes(t.cols), bytes(t.weights)]),
      );
    }
    if (this.userSample) writeFileSync(join(dir, 'user-sample.bin'), bytes(this.userSample));
    const manifest: Manifest = {
      format: ARTIFACT_FORMAT,
      formatVersion: ARTIFACT_FORMAT_VERSION,
      version: meta.version,
      dataWatermark: meta.dataWatermark,
      metrics: meta.metrics,
      createdAt: new Date().toISOString(),
      numItems: this.numItems,
      dim: this.dim,
      weights,
      idMask: this.idMask !== undefined,
      content: this.content ? { vocabSize: this.content.vocab.length } : null,
      transitions: t ? { window: t.window, lastItems: t.lastItems, nnz: t.cols.length } : null,
      blend: this.blend ?? null,
      training: this.training,
      userSample: this.userSample ? { count: this.userSample.length / this.dim } : null,
    };
    // written last: a directory with a manifest is complete
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  }

  /** Reads the manifest of a saved model without loading it. */
  static readManifest(dir: string): Manifest {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
    if (m.format !== ARTIFACT_FORMAT) throw new Error(`${dir}: not a ${ARTIFACT_FORMAT} artifact`);
    if (m.formatVersion !== ARTIFACT_FORMAT_VERSION)
      throw new Error(
        `${dir}: format version ${m.formatVersion} is not supported (expected ${ARTIFACT_FORMAT_VERSION})`,
      );
    return m;
  }

  static async load(dir: string, opts: { tf?: TF } = {}): Promise<SequenceModel> {
    const tf = opts.tf ?? getTf('serve', stderrLogger);
    const m = SequenceModel.readManifest(dir);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as NetConfig;
    const itemIds = JSON.parse(readFileSync(join(dir, 'item-ids.json'), 'utf8')) as string[];
    const init = readWeightsFile(join(dir, 'weights.bin'), m.weights);
    const idMask = m.idMask ? f32(readFileSync(join(dir, 'id-mask.bin'))) : undefined;
    let content: ContentIndex | undefined;
    if (m.content) {
      const vocab = JSON.parse(readFileSync(join(dir, 'content-vocab.json'), 'utf8')) as string[];
      const b = readFileSync(join(dir, 'content.bin'));
      const n = config.numItems;
      const itemStart = i32(b.subarray(0, (n + 1) * 4));
      const nnz = itemStart[n];
      const tokens = i32(b.subarray((n + 1) * 4, (n + 1 + nnz) * 4));
      const weights = f32(b.subarray((n + 1 + nnz) * 4, (n + 1 + 2 * nnz) * 4));
      content = new ContentIndex(vocab, itemStart, tokens, weights);
    }
    let transitions: Transitions | undefined;
    if (m.transitions) {
      const b = readFileSync(join(dir, 'transitions.bin'));
      const n = config.numItems;
      const nnz = m.transitions.nnz;
      transitions = new Transitions(
        n,
        m.transitions.window,
        m.transitions.lastItems,
        i32(b.subarray(0, (n + 1) * 4)),
        i32(b.subarray((n + 1) * 4, (n + 1 + nnz) * 4)),
        f32(b.subarray((n + 1 + nnz) * 4, (n + 1 + 2 * nnz) * 4)),
      );
    }
    const net = new SasRecNet(tf, config, {
      init,
      idMask,
      content: content ? contentTensors(content) : undefined,
    });
    return new SequenceModel({
      tf,
      net,
      itemIds,
      idMask,
      content,
      transitions,
      blend: m.blend ?? undefined,
      training: m.training,
      userSample: m.userSample ? f32(readFileSync(join(dir, 'user-sample.bin'))) : undefined,
    });
  }

  dispose(): void {
    this.net.dispose();
    this.cachedItems = undefined;
  }
}

/** Content index as the flattened (item, token, weight) arrays the net takes. */
export function contentTensors(c: ContentIndex): {
  items: Int32Array;
  tokens: Int32Array;
  weights: Float32Array;
} {
  const items = new Int32Array(c.tokens.length);
  for (let i = 0; i < c.numItems; i++) items.fill(i, c.itemStart[i], c.itemStart[i + 1]);
  return { items, tokens: c.tokens, weights: c.weights };
}
