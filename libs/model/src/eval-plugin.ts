/**
 * Evaluation plugin: registers `sasrec` (the transformer alone) and `served` (transformer +
 * item-to-item transitions, blend weight chosen on the validation split) in libs/evaluation's
 * registry. Load with `reco evaluate --plugin ./libs/model/dist/eval-plugin.js` or
 * RECO_EVAL_PLUGINS. Options (--model-opt key=value): dim, blocks, heads, maxLen, ffnDim,
 * dropout, lr, batchSize, epochs, patience, negatives, validationUsers, holdout (validation
 * users held out of training for selection, default 5000), content (JSONL file of
 * {id, category, brand, price, title}), save (directory to write the artifact to).
 */
import { readFileSync } from 'node:fs';

import {
  registerModel,
  type EvalCase,
  type FitOptions,
  type ModelContext,
  type ModelRegistry,
  type Recommender,
  type ScoreBatch,
  type TrainData,
} from '@reco/evaluation';

import type { ItemContent } from './content';
import { mulberry32, shuffleInPlace } from './rng';
import { ServedScorer, selectBlendWeight } from './served';
import { SequenceModel } from './sequence-model';
import { trainSequenceModel, type FitSettings } from './trainer';
import { Transitions } from './transitions';

const NUM_KEYS: Record<string, keyof FitSettings> = {
  dim: 'dim',
  blocks: 'blocks',
  heads: 'heads',
  maxLen: 'maxLen',
  ffnDim: 'ffnDim',
  dropout: 'dropout',
  lr: 'learningRate',
  learningRate: 'learningRate',
  batchSize: 'batchSize',
  epochs: 'epochs',
  patience: 'patience',
  negatives: 'negatives',
  validationUsers: 'validationUsers',
  logEvery: 'logEvery',
};
/** Plugin-level numeric options (not trainer settings). */
const PLUGIN_KEYS = ['holdout'];

export function settingsFromOptions(options: Readonly<Record<string, string>>): FitSettings {
  const s: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    if (k === 'content' || k === 'save' || k === 'load' || PLUGIN_KEYS.includes(k)) continue;
    const key = NUM_KEYS[k];
    if (!key)
      throw new Error(
        `--model-opt ${k}: unknown option (known: ${[...Object.keys(NUM_KEYS), ...PLUGIN_KEYS, 'content', 'save', 'load'].join(', ')})`,
      );
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0)
      throw new Error(`--model-opt ${k}=${v}: expected a non-negative number`);
    s[key] = n;
  }
  return s as FitSettings;
}

/** Reads item content from a JSONL file: one {"id": "...", category, brand, price, title} per line. */
export function readContentFile(file: string): Map<string, ItemContent> {
  const out = new Map<string, ItemContent>();
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.trim() === '') return;
      let o: ItemContent & { id?: unknown };
      try {
        o = JSON.parse(line) as ItemContent & { id?: unknown };
      } catch {
        throw new Error(`${file}:${i + 1}: not JSON`);
      }
      if (o.id === undefined) throw new Error(`${file}:${i + 1}: missing id`);
      out.set(String(o.id), o);
    });
  return out;
}

/** Validation users held out of training for model selection (see fit). */
export const DEFAULT_HOLDOUT = 5000;

function withTarget(c: EvalCase): Int32Array {
  const s = new Int32Array(c.history.length + 1);
  s.set(c.history);
  s[c.history.length] = c.target;
  return s;
}

class SasRecRecommender implements Recommender {
  readonly preferredBatchSize = 1024;
  protected model: SequenceModel | undefined;
  protected scorer: ServedScorer | undefined;

  constructor(
    readonly name: 'sasrec' | 'served',
    protected readonly ctx: ModelContext,
  ) {
    settingsFromOptions(ctx.options); // fail early on bad options
  }

  protected settings(opts: FitOptions): FitSettings {
    const s = settingsFromOptions(this.ctx.options);
    s.seed = opts.seed;
    if (opts.maxTrainMinutes !== undefined) s.maxTrainMinutes = opts.maxTrainMinutes;
    let epochsDone = 0;
    s.onEpoch = (e, fraction) => {
      epochsDone = e.epoch;
      opts.onProgress?.({
        fraction,
        epoch: epochsDone,
        loss: e.loss,
        message: `epoch ${e.epoch} loss ${e.loss.toFixed(3)} val NDCG@10 ${e.valNdcg10?.toFixed(4) ?? '-'}`,
      });
    };
    return s;
  }

  async fit(train: TrainData, validation: readonly EvalCase[] | undefined, opts: FitOptions): Promise<void> {
    if (this.ctx.options.load) {
      // evaluate a saved artifact (trained on the same training split) instead of training
      const model = await SequenceModel.load(this.ctx.options.load);
      if (model.numItems !== train.numItems || model.itemIds.some((id, i) => id !== train.itemIds[i]))
        throw new Error(`${this.ctx.options.load}: item ids do not match the dataset`);
      this.model = model;
      if (this.name === 'served') this.scorer = ServedScorer.fromModel(model);
      return;
    }
    const content = this.ctx.options.content ? readContentFile(this.ctx.options.content) : undefined;
    const settings = this.settings(opts);
    if (this.name === 'served' && validation?.length) settings.reserveSeconds = 60;
    // Validation hold-out: `holdout` users (seeded draw) keep their validation item out of training
    // and are the only cases used for early stopping and the blend weight; every other user's
    // validation item is appended to their training sequence (the most recent interactions are
    // the most informative ones). holdout=0: train on training items only, select on all cases.
    const holdout = Number(this.ctx.options.holdout ?? DEFAULT_HOLDOUT);
    let selectOn = validation ?? [];
    const sequences = train.sequences.slice();
    if (validation?.length && holdout > 0 && holdout < validation.length) {
      const order = Array.from(validation.keys());
      shuffleInPlace(order, mulberry32(opts.seed ^ 0x9e3779b9));
      selectOn = order.slice(0, holdout).map((i) => validation[i]);
      for (const i of order.slice(holdout)) sequences[validation[i].user] = withTarget(validation[i]);
    }
    const { model, report } = await trainSequenceModel(
      { itemIds: train.itemIds, sequences, validation: selectOn, content },
      settings,
    );
    this.model = model;
    const metrics: Record<string, number> = {};
    if (report.bestValNdcg10 !== null) metrics['val_NDCG@10'] = report.bestValNdcg10;
    if (this.name === 'served') {
      let weight = 0;
      if (selectOn.length) {
        // choose the weight on the selection cases, with transitions of what the model was trained on
        const tTrain = Transitions.count(sequences, train.numItems);
        const sel = selectBlendWeight(model, tTrain, selectOn);
        weight = sel.weight;
        metrics['val_NDCG@10_served'] = sel.ndcgByWeight[String(weight)];
        console.error(
          JSON.stringify({
            level: 'info',
            msg: 'served: blend weight',
            weight,
            ndcgByWeight: sel.ndcgByWeight,
          }),
        );
      }
      // then count transitions on everything known at fit time (training + validation items)
      const all = train.sequences.slice();
      for (const c of validation ?? []) all[c.user] = withTarget(c);
      model.transitions = Transitions.count(all, train.numItems);
      model.blend = { weight, transform: 'log1p' };
      this.scorer = ServedScorer.fromModel(model);
    }
    if (this.ctx.options.save) {
      await model.save(this.ctx.options.save, {
        version: `${this.name}-${new Date().toISOString()}`,
        dataWatermark: `${train.numUsers} users, ${train.sequences.reduce((a, q) => a + q.length, 0) + (validation?.length ?? 0)} interactions`,
        metrics,
      });
    }
  }

  scoreUsers(batch: ScoreBatch, out: Float32Array[]): void {
    const model = this.model;
    if (!model) throw new Error(`${this.name}: not fitted`);
    const n = model.numItems;
    const scores = model.scoreAll(model.encodeUsers(batch.histories as Int32Array[]), batch.histories.length);
    for (let r = 0; r < out.length; r++) {
      out[r].set(scores.subarray(r * n, (r + 1) * n));
      this.scorer?.addToRow(out[r], batch.histories[r]);
    }
  }

  dispose(): void {
    this.model?.dispose();
    this.model = undefined;
  }
}

export function registerModels(registry?: ModelRegistry): void {
  const reg = (name: string, f: (ctx: ModelContext) => Recommender, desc: string) =>
    registry
      ? registry.register(name, f, desc, { replace: true })
      : registerModel(name, f, desc, { replace: true });
  reg(
    'sasrec',
    (ctx) => new SasRecRecommender('sasrec', ctx),
    'SASRec transformer, full softmax CE (TensorFlow.js native)',
  );
  reg(
    'served',
    (ctx) => new SasRecRecommender('served', ctx),
    'served scorer: SASRec dot product + w * log1p(item-to-item transitions), w chosen on validation',
  );
}

registerModels();
