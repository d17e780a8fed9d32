import type * as tfjs from '@tensorflow/tfjs';

import type { NetConfig } from './config';
import { normalArray, type Rand } from './rng';

type TF = typeof tfjs;
let netCounter = 0;
type Tensor = tfjs.Tensor;
type Tensor2D = tfjs.Tensor2D;

/** One trainable (or fixed) weight: name, shape, values. */
export interface WeightSpec {
  name: string;
  shape: number[];
  trainable: boolean;
}

/** Sparse item -> content tokens (CSR flattened to parallel arrays) for the content tower. */
export interface ContentTensors {
  /** Item index of each (item, token) entry. */
  items: Int32Array;
  tokens: Int32Array;
  weights: Float32Array;
}

/**
 * SASRec-style causal transformer written with tf ops and tf.variable (tfjs has no
 * MultiHeadAttention layer). Input: item sequences left-padded with 0 (item i is i + 1).
 * Pre-LN blocks: x += Drop(MHA(LN(x))) with causal + key-padding masks; x += Drop(FFN(LN(x)));
 * padded positions are zeroed after each block; a final LN gives the hidden states.
 * Item embeddings are shared between input and output (scores = hidden . itemTable).
 */
export class SasRecNet {
  readonly vars = new Map<string, tfjs.Variable>();
  readonly specs: WeightSpec[] = [];
  private readonly causal: Tensor2D;
  private readonly idMask: Tensor2D | undefined;
  private readonly content: { items: tfjs.Tensor1D; tokens: tfjs.Tensor1D; weights: Tensor2D } | undefined;

  constructor(
    private readonly tf: TF,
    readonly cfg: NetConfig,
    opts: {
      rand?: Rand;
      init?: ReadonlyMap<string, Float32Array>;
      /** Per item, 1 if its ID embedding is used, 0 if not (items without interactions when content exists). */
      idMask?: Float32Array;
      content?: ContentTensors;
    },
  ) {
    const { dim: d, ffnDim: f, maxLen } = cfg;
    if (d % cfg.heads !== 0) throw new Error(`dim ${d} must be divisible by heads ${cfg.heads}`);
    const rand = opts.rand;
    netCounter++;
    const add = (name: string, shape: number[], std: number | 'ones' | 'zeros') => {
      const size = shape.reduce((a, b) => a * b, 1);
      let values = opts.init?.get(name);
      if (values === undefined) {
        if (std === 'ones') values = new Float32Array(size).fill(1);
        else if (std === 'zeros') values = new Float32Array(size);
        else {
          if (!rand) throw new Error(`missing initial value of weight ${name}`);
          values = normalArray(size, std, rand);
        }
      }
      if (values.length !== size)
        throw new Error(`weight ${name}: expected ${size} values, got ${values.length}`);
      this.vars.set(name, tf.variable(tf.tensor(values, shape), true, `sasrec${netCounter}.${name}`));
      this.specs.push({ name, shape, trainable: true });
    };
    const glorot = (fanIn: number, fanOut: number) => Math.sqrt(2 / (fanIn + fanOut));
    add('item_emb', [cfg.numItems, d], glorot(cfg.numItems, d));
    add('pos_emb', [maxLen, d], glorot(maxLen, d));
    if (cfg.contentVocab > 0) add('content_emb', [cfg.contentVocab, d], glorot(cfg.contentVocab, d));
    for (let b = 0; b < cfg.blocks; b++) {
      const p = `block${b}`;
      add(`${p}.ln1.g`, [d], 'ones');
      add(`${p}.ln1.b`, [d], 'zeros');
      for (const m of ['q', 'k', 'v', 'o']) {
        add(`${p}.attn.w${m}`, [d, d], glorot(d, d));
        add(`${p}.attn.b${m}`, [d], 'zeros');
      }
      add(`${p}.ln2.g`, [d], 'ones');
      add(`${p}.ln2.b`, [d], 'zeros');
      add(`${p}.ffn.w1`, [d, f], glorot(d, f));
      add(`${p}.ffn.b1`, [f], 'zeros');
      add(`${p}.ffn.w2`, [f, d], glorot(f, d));
      add(`${p}.ffn.b2`, [d], 'zeros');
    }
    add('ln_f.g', [d], 'ones');
    add('ln_f.b', [d], 'zeros');

    const causal = new Float32Array(maxLen * maxLen);
    for (let i = 0; i < maxLen; i++) for (let j = i + 1; j < maxLen; j++) causal[i * maxLen + j] = -1e9;
    this.causal = tf.tensor2d(causal, [maxLen, maxLen]);
    this.idMask = opts.idMask ? tf.tensor2d(opts.idMask, [cfg.numItems, 1]) : undefined;
    if (cfg.contentVocab > 0) {
      if (!opts.content) throw new Error('content tower configured but no content tensors given');
      this.content = {
        items: tf.tensor1d(opts.content.items, 'int32'),
        tokens: tf.tensor1d(opts.content.tokens, 'int32'),
        weights: tf.tensor2d(opts.content.weights, [opts.content.weights.length, 1]),
      };
    }
  }

  private v(name: string): tfjs.Variable {
    const x = this.vars.get(name);
    if (!x) throw new Error(`no weight ${name}`);
    return x;
  }

  /** Content embedding of each item [numItems, dim] (zeros for items without tokens). */
  contentTable(): Tensor2D | undefined {
    if (!this.content) return undefined;
    const tf = this.tf;
    const rows = tf.mul(tf.gather(this.v('content_emb'), this.content.tokens), this.content.weights);
    return tf.unsortedSegmentSum(rows, this.content.items, this.cfg.numItems) as Tensor2D;
  }

  /** Item embeddings [numItems, dim] = ID embedding (masked) + content embedding. */
  itemTable(): Tensor2D {
    const tf = this.tf;
    let t = this.v('item_emb') as Tensor as Tensor2D;
    if (this.idMask) t = tf.mul(t, this.idMask);
    const c = this.contentTable();
    return c ? tf.add(t, c) : t;
  }

  /** Content-only embedding of a token list (a new item). */
  embedContentTokens(tokens: Int32Array, weights: Float32Array): Float32Array {
    const tf = this.tf;
    if (!this.content || tokens.length === 0) return new Float32Array(this.cfg.dim);
    const t = tf.tidy(() => {
      const rows = tf.mul(
        tf.gather(this.v('content_emb'), tf.tensor1d(tokens, 'int32')),
        tf.tensor2d(weights, [weights.length, 1]),
      );
      return tf.sum(rows, 0);
    });
    const out = t.dataSync() as Float32Array;
    t.dispose();
    return out;
  }

  private layerNorm(x: Tensor, name: string): Tensor {
    const tf = this.tf;
    const { mean, variance } = tf.moments(x, -1, true);
    const xn = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-6)));
    return tf.add(tf.mul(xn, this.v(`${name}.g`)), this.v(`${name}.b`));
  }

  private dense(x2d: Tensor, w: string, b: string): Tensor {
    return this.tf.add(this.tf.matMul(x2d as Tensor2D, this.v(w) as Tensor as Tensor2D), this.v(b));
  }

  /**
   * Hidden states [B, L, dim] of left-padded sequences `seq` ([B, L] int32, 0 = padding, item
   * i as i + 1, L <= maxLen; the last column is the latest item). `dropoutSeed` undefined = inference.
   */
  encode(seq: Tensor2D, table: Tensor2D, dropoutSeed?: () => number): Tensor {
    const tf = this.tf;
    const { dim: d, heads: H, maxLen, dropout } = this.cfg;
    const [B, L] = seq.shape;
    if (L > maxLen) throw new Error(`sequence length ${L} > maxLen ${maxLen}`);
    const dh = d / H;
    const train = dropoutSeed !== undefined && dropout > 0;
    const drop = (x: Tensor): Tensor => (train ? tf.dropout(x, dropout, undefined, dropoutSeed!()) : x);

    const padded = tf.concat([tf.zeros([1, d]), table], 0);
    const keep = tf.cast(tf.greater(seq, 0), 'float32'); // [B, L]
    const mask3 = tf.expandDims(keep, 2); // [B, L, 1]
    const pos = tf.slice(this.v('pos_emb'), [maxLen - L, 0], [L, d]);
    let x: Tensor = tf.add(tf.mul(tf.gather(padded, seq), Math.sqrt(d)), pos);
    x = tf.mul(drop(x), mask3);
    // attention bias [B, 1, L, L]: causal + key padding
    const causal = tf.slice(this.causal, [0, 0], [L, L]);
    const keyBias = tf.reshape(tf.mul(tf.sub(1, keep), -1e9), [B, 1, 1, L]);
    const bias = tf.add(tf.reshape(causal, [1, 1, L, L]), keyBias);

    const heads = (t: Tensor) => tf.transpose(tf.reshape(t, [B, L, H, dh]), [0, 2, 1, 3]); // [B,H,L,dh]
    for (let b = 0; b < this.cfg.blocks; b++) {
      const p = `block${b}`;
      const h2 = tf.reshape(this.layerNorm(x, `${p}.ln1`), [B * L, d]);
      const q = heads(this.dense(h2, `${p}.attn.wq`, `${p}.attn.bq`));
      const k = heads(this.dense(h2, `${p}.attn.wk`, `${p}.attn.bk`));
      const v = heads(this.dense(h2, `${p}.attn.wv`, `${p}.attn.bv`));
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), bias);
      const att = drop(tf.softmax(scores, -1));
      const ctx = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * L, d]);
      const o = tf.reshape(this.dense(ctx, `${p}.attn.wo`, `${p}.attn.bo`), [B, L, d]);
      x = tf.add(x, drop(o));
      const f2 = tf.reshape(this.layerNorm(x, `${p}.ln2`), [B * L, d]);
      const f = this.dense(
        tf.relu(this.dense(f2, `${p}.ffn.w1`, `${p}.ffn.b1`)),
        `${p}.ffn.w2`,
        `${p}.ffn.b2`,
      );
      x = tf.mul(tf.add(x, drop(tf.reshape(f, [B, L, d]))), mask3);
    }
    return this.layerNorm(x, 'ln_f');
  }

  /** Last-position hidden state [B, dim] (the users' interest vectors). */
  encodeLast(seq: Tensor2D, table: Tensor2D): Tensor2D {
    const tf = this.tf;
    const [B, L] = seq.shape;
    const h = this.encode(seq, table);
    return tf.reshape(tf.slice(h, [0, L - 1, 0], [B, 1, this.cfg.dim]), [B, this.cfg.dim]);
  }

  /** Current weight values by name. */
  snapshot(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.vars) out.set(name, v.dataSync().slice() as Float32Array);
    return out;
  }

  restore(values: ReadonlyMap<string, Float32Array>): void {
    for (const [name, v] of this.vars) {
      const x = values.get(name);
      if (!x) throw new Error(`restore: missing weight ${name}`);
      v.assign(this.tf.tensor(x, v.shape));
    }
  }

  trainableVariables(): tfjs.Variable[] {
    return [...this.vars.values()];
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    this.causal.dispose();
    this.idMask?.dispose();
    if (this.content) for (const t of Object.values(this.content)) t.dispose();
  }
}

/**
 * Left-pads sequences (dense item indices) into a [B, L] int32 buffer with item i stored as
 * i + 1 and 0 as padding; each row keeps its last min(len, maxLen) items. L = longest kept row (>= 1).
 */
export function padSequences(
  seqs: readonly ArrayLike<number>[],
  maxLen: number,
): { data: Int32Array; L: number } {
  let L = 1;
  for (const s of seqs) L = Math.max(L, Math.min(maxLen, s.length));
  const data = new Int32Array(seqs.length * L);
  seqs.forEach((s, r) => {
    const n = Math.min(L, s.length);
    for (let t = 0; t < n; t++) data[r * L + (L - n) + t] = s[s.length - n + t] + 1;
  });
  return { data, L };
}
