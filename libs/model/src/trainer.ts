import { checkpointMismatch, fitInputFingerprint, type TrainingCheckpoint } from './checkpoint';
import { resolveFitConfig, type NetConfig, type TrainConfig } from './config';
import { ContentIndex, type ItemContent } from './content';
import { SasRecNet } from './net';
import { fullRank, ndcgAt } from './ranking';
import { mulberry32, nextSeed, normalArray, resumableRand, shuffleInPlace, type Rand } from './rng';
import { contentTensors, SequenceModel } from './sequence-model';
import { getTf, stderrLogger, type TF } from './tf';

export interface ValidationCase {
  history: Int32Array;
  target: number;
}

export interface FitInput {
  /** External ids of items 0..numItems-1. */
  itemIds: readonly string[];
  /** Training sequences of dense item indices (time order). */
  sequences: readonly Int32Array[];
  /** Early stopping / model selection cases (history = training items, target = next item). */
  validation?: readonly ValidationCase[];
  /** Item content by external id (enables the content tower). */
  content?: ReadonlyMap<string, ItemContent>;
  /**
   * Per position of `sequences`: how much that item counts as a next-item target (default 1),
   * e.g. more for items users bought after a recommendation showed them.
   */
  weights?: readonly Float32Array[];
}

export type FitSettings = Partial<Omit<NetConfig, 'numItems' | 'contentVocab'>> &
  Partial<TrainConfig> & {
    tf?: TF;
    /** Seconds kept free at the end of the budget (e.g. for blend selection). */
    reserveSeconds?: number;
    log?: (message: string, fields?: Record<string, unknown>) => void;
    onEpoch?: (e: EpochLog, fractionOfBudget: number) => void;
    /** Start from this model's weights (same architecture); its items keep their embeddings. */
    warmStart?: SequenceModel;
    /**
     * Stops the run between training steps (so within about one step of the abort). An aborted
     * run throws `TrainingAbortedError` and yields no model, unless `onAbort` is 'return-best'.
     */
    signal?: AbortSignal;
    /**
     * 'return-best': an aborted run returns the best validated model so far (without
     * validation: the weights as they were when stopped), with report.stoppedBy 'aborted'.
     */
    onAbort?: 'throw' | 'return-best';
    /**
     * Called (and awaited) after every epoch that trained, with what it takes to continue the
     * run from there (`resumeFrom`); if it throws, training fails.
     */
    onCheckpoint?: (checkpoint: TrainingCheckpoint) => void | Promise<void>;
    /**
     * Continue an interrupted run from its checkpoint: same input and settings (else
     * `CheckpointMismatchError`), except the stopping rules; `warmStart` is then ignored.
     */
    resumeFrom?: TrainingCheckpoint;
  };

/** Thrown by an aborted `trainSequenceModel` (without `onAbort: 'return-best'`). */
export class TrainingAbortedError extends Error {
  override readonly name = 'TrainingAbortedError';
  /** @param lastCompletedEpoch the last epoch that finished (and was checkpointed) before the abort */
  constructor(readonly lastCompletedEpoch: number) {
    super(`training aborted after epoch ${lastCompletedEpoch}`);
  }
}

/** `resumeFrom` does not belong to this input or these settings. */
export class CheckpointMismatchError extends Error {
  override readonly name = 'CheckpointMismatchError';
}

export interface EpochLog {
  epoch: number;
  loss: number;
  valNdcg10?: number;
  valHr10?: number;
  seconds: number;
  steps: number;
}

export interface FitReport {
  net: NetConfig;
  train: TrainConfig;
  epochs: EpochLog[];
  bestEpoch: number;
  bestValNdcg10: number | null;
  trainSeconds: number;
  stoppedBy: 'epochs' | 'patience' | 'time' | 'aborted';
  numTrainSequences: number;
  numTrainPositions: number;
  /** The checkpoint's epoch when the run was resumed. */
  resumedFromEpoch?: number;
}

/** Training yields to the event loop this often, so a signal handler or HTTP request can run. */
const YIELD_EVERY_MS = 20;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Example {
  input: Int32Array;
  labels: Int32Array;
  /** Loss weight of each label (absent: 1). */
  weights?: Float32Array;
}

/** Next-item examples: input = items[..n-2], labels = items[1..], last maxLen positions. */
export function makeExamples(
  sequences: readonly Int32Array[],
  maxLen: number,
  weights?: readonly Float32Array[],
): Example[] {
  const out: Example[] = [];
  sequences.forEach((s, i) => {
    const n = s.length;
    if (n < 2) return;
    const m = Math.min(n - 1, maxLen);
    out.push({
      input: s.subarray(n - 1 - m, n - 1),
      labels: s.subarray(n - m, n),
      weights: weights?.[i]?.subarray(n - m, n),
    });
  });
  return out;
}

/** Batches of similar length (less padding), in random order. */
function makeBatches(examples: Example[], batchSize: number, rand: Rand): Example[][] {
  const order = examples.slice();
  shuffleInPlace(order, rand);
  const chunk = batchSize * 32;
  const batches: Example[][] = [];
  for (let c = 0; c < order.length; c += chunk) {
    const part = order.slice(c, c + chunk).sort((a, b) => a.input.length - b.input.length);
    for (let b = 0; b < part.length; b += batchSize) batches.push(part.slice(b, b + batchSize));
  }
  shuffleInPlace(batches, rand);
  return batches;
}

/** Validation NDCG@10 / HR@10 on the full catalog (history items removed). */
export function validate(
  model: SequenceModel,
  cases: readonly ValidationCase[],
): { ndcg10: number; hr10: number } {
  model.invalidate();
  const mark = new Uint8Array(model.numItems);
  let ndcg = 0;
  let hr = 0;
  const batch = 1024;
  for (let start = 0; start < cases.length; start += batch) {
    const bc = cases.slice(start, start + batch);
    const scores = model.scoreAll(model.encodeUsers(bc.map((c) => c.history)), bc.length);
    bc.forEach((c, r) => {
      const rank = fullRank(
        scores.subarray(r * model.numItems, (r + 1) * model.numItems),
        c.target,
        c.history,
        mark,
      );
      ndcg += ndcgAt(rank, 10);
      hr += rank < 10 ? 1 : 0;
    });
  }
  const n = Math.max(1, cases.length);
  return { ndcg10: ndcg / n, hr10: hr / n };
}

/**
 * Trains a SASRec-style model with softmax cross-entropy at every position (full catalog, or
 * sampled with `negatives` shared negatives), Adam, dropout; validates NDCG@10 after every
 * epoch, keeps the best weights, stops on patience / epochs / time budget / abort signal.
 * With `onCheckpoint` it hands out a checkpoint after every epoch; `resumeFrom` continues one:
 * weights, Adam moments and step count, random stream, best-so-far, patience counter and time
 * spent are restored, so the resumed run follows the path the uninterrupted one would have.
 */
export async function trainSequenceModel(
  input: FitInput,
  settings: FitSettings = {},
): Promise<{ model: SequenceModel; report: FitReport }> {
  const resume = settings.resumeFrom;
  const signal = settings.signal;
  if (signal?.aborted) throw new TrainingAbortedError(resume?.epoch ?? 0);
  // time already spent by an interrupted run counts against the budget
  const t0 = Date.now() - (resume ? resume.trainSeconds * 1000 : 0);
  const log = settings.log ?? ((m, f) => stderrLogger.info(m, f));
  const tf = settings.tf ?? getTf('train', stderrLogger);
  const { net: netBase, train } = resolveFitConfig(settings);
  const numItems = input.itemIds.length;
  const inputFingerprint = resume || settings.onCheckpoint ? fitInputFingerprint(input) : '';
  if (resume) {
    const why = checkpointMismatch(resume, input, settings, inputFingerprint);
    if (why) throw new CheckpointMismatchError(`cannot resume from the checkpoint: ${why}`);
  }
  // One random stream for the whole run (init, shuffles, dropout, negatives); a resumed run
  // continues it from the checkpoint, so its shuffles are the ones the run would have drawn.
  const rand = resumableRand(resume ? resume.randomState : train.seed);

  let content: ContentIndex | undefined;
  let idMask: Float32Array | undefined;
  if (input.content && input.content.size > 0) {
    content = ContentIndex.build(input.itemIds, input.content);
    if (content.vocab.length === 0) content = undefined;
  }
  if (content) {
    // items nobody interacted with have no learned ID embedding: they rely on content only
    idMask = new Float32Array(numItems);
    for (const s of input.sequences) for (let j = 0; j < s.length; j++) idMask[s[j]] = 1;
  }
  const cfg: NetConfig = { numItems, ...netBase, contentVocab: content ? content.vocab.length : 0 };
  const init = resume
    ? resume.weights
    : settings.warmStart
      ? warmStartWeights(settings.warmStart, input.itemIds, cfg, rand)
      : undefined;
  if (settings.warmStart && !resume)
    log('sasrec: warm start', {
      from: settings.warmStart.numItems,
      items: numItems,
      weights: init?.size ?? 0,
    });
  const net = new SasRecNet(tf, cfg, {
    rand: resume ? undefined : rand, // resumed: every weight comes from the checkpoint
    idMask,
    content: content ? contentTensors(content) : undefined,
    init,
  });
  const model = new SequenceModel({ tf, net, itemIds: input.itemIds, idMask, content });

  const examples = makeExamples(input.sequences, cfg.maxLen, input.weights);
  const numPositions = examples.reduce((a, e) => a + e.labels.length, 0);
  let valCases = input.validation ?? [];
  if (train.validationUsers > 0 && valCases.length > train.validationUsers) {
    const idx = Array.from(valCases.keys());
    shuffleInPlace(idx, mulberry32(train.seed ^ 0x5eed));
    valCases = idx.slice(0, train.validationUsers).map((i) => valCases[i]);
  }
  log('sasrec: training', {
    items: numItems,
    sequences: examples.length,
    positions: numPositions,
    validation: valCases.length,
    contentVocab: cfg.contentVocab,
    ...netBase,
    ...train,
  });

  const optimizer = tf.train.adam(train.learningRate, 0.9, 0.98, 1e-8);
  const vars = net.trainableVariables();
  const varNames = [...net.vars.keys()];
  if (resume) {
    try {
      await restoreAdam(tf, optimizer, net, resume);
    } catch (err) {
      optimizer.dispose();
      model.dispose();
      throw err;
    }
  }
  const dropSeed = () => nextSeed(rand);
  const budgetMs = train.maxTrainMinutes * 60_000 - (settings.reserveSeconds ?? 0) * 1000;
  const epochs: EpochLog[] = resume ? resume.epochs.map((e) => ({ ...e })) : [];
  let best: ReadonlyMap<string, Float32Array> | undefined = resume?.bestWeights;
  let bestEpoch = resume?.bestEpoch ?? 0;
  let bestNdcg = resume?.bestValNdcg10 ?? -1;
  let sinceBest = resume?.epochsSinceBest ?? 0;
  let lastValMs = resume ? resume.lastValidationSeconds * 1000 : 0;
  let lastCompletedEpoch = resume?.epoch ?? 0;
  let stoppedBy: FitReport['stoppedBy'] = 'epochs';
  let aborted = false;
  let lastYield = Date.now();
  const d = cfg.dim;
  if (resume) {
    log('sasrec: resumed from checkpoint', {
      epoch: resume.epoch,
      bestEpoch,
      bestValNdcg10: resume.bestValNdcg10,
      trainSeconds: resume.trainSeconds,
    });
  }
  // a run that had already met its patience when checkpointed is done
  const patienceMet = () => train.patience > 0 && sinceBest >= train.patience;
  if (resume && patienceMet()) stoppedBy = 'patience';

  for (let epoch = lastCompletedEpoch + 1; epoch <= train.epochs && stoppedBy === 'epochs'; epoch++) {
    const te = Date.now();
    const batches = makeBatches(examples, train.batchSize, rand);
    let lossSum = 0;
    let lossN = 0;
    let steps = 0;
    let outOfTime = false;
    for (const batch of batches) {
      // tf calls resolve as microtasks: without this, nothing else (signals, HTTP) would run
      if (Date.now() - lastYield >= YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = Date.now();
      }
      if (signal?.aborted) {
        aborted = true;
        break;
      }
      if (Date.now() - t0 + lastValMs * 1.2 > budgetMs) {
        outOfTime = true;
        break;
      }
      const B = batch.length;
      let L = 1;
      for (const e of batch) L = Math.max(L, e.input.length);
      const inp = new Int32Array(B * L);
      const pos: number[] = [];
      const lab: number[] = [];
      const wts: number[] = [];
      batch.forEach((e, r) => {
        const m = e.input.length;
        for (let t = 0; t < m; t++) {
          inp[r * L + (L - m) + t] = e.input[t] + 1;
          pos.push(r * L + (L - m) + t);
          lab.push(e.labels[t]);
          wts.push(e.weights ? e.weights[t] : 1);
        }
      });
      const weightSum = wts.reduce((a, b) => a + b, 0);
      let cand: Int32Array | undefined;
      if (train.negatives > 0) {
        const colOf = new Map<number, number>();
        for (const l of lab) if (!colOf.has(l)) colOf.set(l, colOf.size);
        const want = colOf.size + Math.min(train.negatives, numItems - colOf.size);
        while (colOf.size < want) {
          const i = Math.floor(rand() * numItems);
          if (!colOf.has(i)) colOf.set(i, colOf.size);
        }
        cand = new Int32Array(colOf.size);
        for (const [i, c] of colOf) cand[c] = i;
      }
      const loss = tf.tidy((): import('@tensorflow/tfjs').Scalar => {
        const inpT = tf.tensor2d(inp, [B, L], 'int32');
        const posT = tf.tensor1d(Int32Array.from(pos), 'int32');
        const labT = tf.tensor1d(Int32Array.from(lab), 'int32');
        const wT = tf.tensor1d(Float32Array.from(wts));
        const candT = cand ? tf.tensor1d(cand, 'int32') : undefined;
        const cost = optimizer.minimize(
          () => {
            const table = net.itemTable();
            const h = net.encode(inpT, table, dropSeed);
            const hv = tf.gather(tf.reshape(h, [B * L, d]), posT) as import('@tensorflow/tfjs').Tensor2D;
            if (!candT) {
              const logits = tf.matMul(hv, table, false, true);
              const tgt = tf.sum(tf.mul(hv, tf.gather(table, labT)), 1);
              return tf.div(tf.sum(tf.mul(wT, tf.sub(tf.logSumExp(logits, 1), tgt))), weightSum);
            }
            // sampled softmax: the batch's targets + uniform negatives
            const logits = tf.matMul(hv, tf.gather(table, candT), false, true);
            const tgt = tf.sum(tf.mul(hv, tf.gather(table, labT)), 1);
            return tf.div(tf.sum(tf.mul(wT, tf.sub(tf.logSumExp(logits, 1), tgt))), weightSum);
          },
          true,
          vars,
        );
        if (!cost) throw new Error('optimizer returned no cost');
        return cost;
      });
      if (loss) {
        lossSum += (await loss.data())[0] * pos.length;
        lossN += pos.length;
        loss.dispose();
      }
      steps++;
      if (train.logEvery > 0 && steps % train.logEvery === 0)
        log('sasrec: step', { epoch, step: steps, of: batches.length, loss: lossSum / Math.max(1, lossN) });
    }
    // an aborted epoch is dropped: a resumed run redoes it from the previous checkpoint
    if (aborted) break;
    const e: EpochLog = { epoch, loss: lossSum / Math.max(1, lossN), seconds: 0, steps };
    if (steps > 0 && valCases.length > 0) {
      const tv = Date.now();
      const v = validate(model, valCases);
      lastValMs = Date.now() - tv;
      e.valNdcg10 = v.ndcg10;
      e.valHr10 = v.hr10;
      if (v.ndcg10 > bestNdcg) {
        bestNdcg = v.ndcg10;
        bestEpoch = epoch;
        best = net.snapshot();
        sinceBest = 0;
      } else sinceBest++;
    } else if (steps > 0) {
      bestEpoch = epoch;
      best = undefined;
    }
    e.seconds = (Date.now() - te) / 1000;
    if (steps > 0) epochs.push(e);
    log('sasrec: epoch', {
      ...e,
      bestEpoch,
      bestValNdcg10: bestNdcg >= 0 ? bestNdcg : null,
      elapsed: (Date.now() - t0) / 1000,
    });
    settings.onEpoch?.(e, Math.min(1, (Date.now() - t0) / budgetMs));
    if (steps > 0) {
      lastCompletedEpoch = epoch;
      if (settings.onCheckpoint) {
        const adam = await adamState(optimizer, varNames);
        await settings.onCheckpoint({
          epoch,
          net: cfg,
          train,
          inputFingerprint,
          bestEpoch,
          bestValNdcg10: bestNdcg >= 0 ? bestNdcg : null,
          epochsSinceBest: sinceBest,
          randomState: rand.state(),
          trainSeconds: (Date.now() - t0) / 1000,
          lastValidationSeconds: lastValMs / 1000,
          epochs: epochs.map((x) => ({ ...x })),
          optimizerIterations: adam.iterations,
          // the best weights are this epoch's when it validated best: one copy for both
          weights: best && bestEpoch === epoch ? best : net.snapshot(),
          bestWeights: best,
          adamFirstMoments: adam.first,
          adamSecondMoments: adam.second,
        });
      }
    }
    if (outOfTime) {
      stoppedBy = 'time';
      break;
    }
    if (patienceMet()) {
      stoppedBy = 'patience';
      break;
    }
  }
  optimizer.dispose();
  if (aborted) {
    log('sasrec: training aborted', { lastCompletedEpoch, elapsed: (Date.now() - t0) / 1000 });
    if (settings.onAbort !== 'return-best') {
      model.dispose();
      throw new TrainingAbortedError(lastCompletedEpoch);
    }
    stoppedBy = 'aborted';
  }
  if (best) net.restore(best);
  model.invalidate();
  const report: FitReport = {
    net: cfg,
    train,
    epochs,
    bestEpoch,
    bestValNdcg10: bestNdcg >= 0 ? bestNdcg : null,
    trainSeconds: (Date.now() - t0) / 1000,
    stoppedBy,
    numTrainSequences: examples.length,
    numTrainPositions: numPositions,
  };
  if (resume) report.resumedFromEpoch = resume.epoch;
  model.training = { ...report, epochs: epochs.length };
  model.userSample = sampleUserVectors(model, input.sequences, mulberry32(train.seed ^ 0x05e1));
  return { model, report };
}

/** Users in a model's sample of interest vectors (`SequenceModel.userSample`). */
export const USER_SAMPLE_SIZE = 300;

/**
 * Interest vectors of up to USER_SAMPLE_SIZE distinct random training users, each encoded from a
 * random prefix of their sequence: a user is served at every point of their history, not only at
 * its end.
 */
export function sampleUserVectors(
  model: SequenceModel,
  sequences: readonly Int32Array[],
  rand: Rand,
): Float32Array {
  const users = sequences.filter((s) => s.length > 0);
  shuffleInPlace(users, rand);
  return model.encodeUsers(
    users.slice(0, USER_SAMPLE_SIZE).map((s) => s.subarray(0, 1 + Math.floor(rand() * s.length))),
  );
}

type Adam = ReturnType<TF['train']['adam']>;

/** Adam's step count and moments by weight name (empty maps before its first step). */
async function adamState(
  optimizer: Adam,
  names: readonly string[],
): Promise<{ iterations: number; first: Map<string, Float32Array>; second: Map<string, Float32Array> }> {
  const weights = await optimizer.getWeights(); // [iterations, m..., v...] in variable order
  weights[0]!.tensor.dispose(); // a fresh scalar; the moments are the optimizer's own variables
  const first = new Map<string, Float32Array>();
  const second = new Map<string, Float32Array>();
  const moments = weights.slice(1);
  if (moments.length === 2 * names.length) {
    names.forEach((name, i) => {
      first.set(name, (moments[i]!.tensor.dataSync() as Float32Array).slice());
      second.set(name, (moments[names.length + i]!.tensor.dataSync() as Float32Array).slice());
    });
  }
  return { iterations: optimizer.iterations, first, second };
}

/** Puts a checkpoint's Adam state back (moments matched to the net's variables by name). */
async function restoreAdam(tf: TF, optimizer: Adam, net: SasRecNet, cp: TrainingCheckpoint): Promise<void> {
  if (cp.adamFirstMoments.size === 0) return; // checkpointed before the first step: Adam starts fresh
  const moment = (set: ReadonlyMap<string, Float32Array>, suffix: string) =>
    [...net.vars].map(([name, v]) => {
      const values = set.get(name);
      if (!values) throw new CheckpointMismatchError(`the checkpoint has no Adam moment for ${name}`);
      return { name: `${name}/${suffix}`, tensor: tf.tensor(values, v.shape) };
    });
  const state = [
    { name: 'iter', tensor: tf.scalar(cp.optimizerIterations, 'int32') },
    ...moment(cp.adamFirstMoments, 'm'),
    ...moment(cp.adamSecondMoments, 'v'),
  ];
  await optimizer.setWeights(state); // makes its own variables of these tensors
  tf.dispose(state.map((s) => s.tensor));
}

/**
 * Initial weights taken from a trained model for a new training run: every weight of the same
 * architecture, and the item embeddings of the items both know (matched by id); items the
 * old model did not know are appended with a fresh random embedding. The content embeddings
 * start fresh (the token vocabulary may have changed). A different architecture: nothing.
 */
export function warmStartWeights(
  from: SequenceModel,
  itemIds: readonly string[],
  cfg: NetConfig,
  rand: Rand,
): Map<string, Float32Array> {
  const init = new Map<string, Float32Array>();
  const old = from.config;
  if (
    old.dim !== cfg.dim ||
    old.blocks !== cfg.blocks ||
    old.heads !== cfg.heads ||
    old.ffnDim !== cfg.ffnDim
  )
    return init;
  const snap = from.net.snapshot();
  for (const [name, values] of snap) {
    if (name === 'item_emb' || name === 'content_emb') continue;
    if (name === 'pos_emb' && old.maxLen !== cfg.maxLen) continue;
    init.set(name, values);
  }
  const d = cfg.dim;
  const oldTable = snap.get('item_emb')!;
  const table = normalArray(itemIds.length * d, Math.sqrt(2 / (itemIds.length + d)), rand);
  itemIds.forEach((id, i) => {
    const j = from.itemIndex(id);
    if (j !== undefined) table.set(oldTable.subarray(j * d, (j + 1) * d), i * d);
  });
  init.set('item_emb', table);
  return init;
}
