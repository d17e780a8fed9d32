import type { Kafka, Producer } from 'kafkajs';
import { ModelPublished, recordHeaders, topicNames } from '@reco/contracts';
import {
  SequenceModel,
  TrainingAbortedError,
  checkpointMismatch,
  checkpointSettingsMismatch,
  type FitSettings,
  type ItemContent,
} from '@reco/model';
import type { Logger } from '@reco/platform';
import type { TrainerConfig } from './config';
import { buildHistories } from './domain/histories';
import { qualityGate, type GateDecision, type HoldoutMetrics } from './domain/quality-gate';
import { splitByTime, type TrainingSplit } from './domain/split';
import {
  formatWatermark,
  replayCatalog,
  replayInteractions,
  replayOutcomes,
  type Watermark,
} from './adapters/event-log';
import { outcomeBonuses } from './domain/outcome-weights';
import type { ModelStore } from './adapters/model-store';
import type { CheckpointRun, CheckpointStore, SavedCheckpoint } from './adapters/checkpoint-store';
import { evaluateOnHoldout, fitInputOf, fitServedModel, type FittedModel } from './model-fitting';

export interface RunReport {
  outcome: 'published' | 'refused' | 'skipped' | 'interrupted';
  reason: string;
  /** Names the run's checkpoints; a resumed run keeps the interrupted run's id. */
  runId?: string;
  /** The checkpoint epoch this run continued from, when it resumed an interrupted run. */
  resumedFromEpoch?: number;
  /** Interrupted runs: the last epoch that completed (and was checkpointed). */
  lastEpoch?: number;
  version?: string;
  candidate?: HoldoutMetrics;
  live?: HoldoutMetrics & { version: string };
  /** The live version the candidate's weights started from, if any. */
  warmStartedFrom?: string;
  users: number;
  items: number;
  seconds: number;
}

/** Version names sort by time: sasrec-20261128T101500123Z. */
export const versionName = (model: string, now: Date) =>
  `${model}-${now.toISOString().replace(/[-:.]/g, '')}`;

/** Run ids sort by start time: run-20261128T101500123Z. */
export const runIdFor = (now: Date) => `run-${now.toISOString().replace(/[-:.]/g, '')}`;

/** What one replay of the log gives a run. */
interface RunData {
  split: TrainingSplit;
  content: ReadonlyMap<string, ItemContent> | undefined;
  watermarks: Watermark;
  users: number;
  events: number;
}

/** Replays the log (up to `upTo` when resuming) and splits it by time. */
async function replayAndSplit(
  kafka: Kafka,
  config: TrainerConfig,
  signal: AbortSignal | undefined,
  upTo?: Watermark,
): Promise<RunData> {
  const topics = topicNames(config.RECO_TOPIC_PREFIX);
  const options = (topic: string) => ({ signal, upTo: upTo?.[topic] });
  const [events, catalog, feedback] = await Promise.all([
    replayInteractions(kafka, topics.eventsClean, options(topics.eventsClean)),
    replayCatalog(kafka, topics.catalog, options(topics.catalog)),
    replayOutcomes(kafka, topics.outcomes, options(topics.outcomes)),
  ]);
  const histories = buildHistories(events.interactions);
  const bonuses = outcomeBonuses(feedback.outcomes);
  const split = splitByTime(histories, config.TRAINER_HOLDOUT_FRACTION, catalog.content.keys(), bonuses);
  return {
    split,
    content: catalog.content.size ? catalog.content : undefined,
    watermarks: {
      [topics.eventsClean]: events.watermark,
      [topics.catalog]: catalog.watermark,
      [topics.outcomes]: feedback.watermark,
    },
    users: histories.size,
    events: events.interactions.length,
  };
}

/** Fit settings from the service's configuration. */
export function fitSettingsFor(config: TrainerConfig): FitSettings {
  return {
    seed: config.TRAINER_SEED,
    epochs: config.TRAINER_EPOCHS,
    patience: config.TRAINER_PATIENCE,
    dim: config.TRAINER_DIM,
    blocks: config.TRAINER_BLOCKS,
    heads: config.TRAINER_HEADS,
    maxLen: config.TRAINER_MAX_LEN,
    dropout: config.TRAINER_DROPOUT,
    learningRate: config.TRAINER_LEARNING_RATE,
    batchSize: config.TRAINER_BATCH_SIZE,
    negatives: config.TRAINER_NEGATIVES,
    maxTrainMinutes: config.TRAINER_MAX_TRAIN_MINUTES,
  };
}

/**
 * The checkpoint an interrupted run left, if this run can continue it: same settings and the
 * same topics (the data is checked once replayed). Anything else is deleted: only the latest
 * run can be resumed, and a checkpoint that cannot be is of no use.
 */
async function resumableCheckpoint(
  checkpoints: CheckpointStore,
  config: TrainerConfig,
  logger: Logger,
): Promise<SavedCheckpoint | undefined> {
  let saved: SavedCheckpoint | undefined;
  try {
    saved = await checkpoints.latest();
  } catch (err) {
    logger.warn({ err: String(err) }, 'unreadable training checkpoint deleted: training starts over');
  }
  await checkpoints.prune(saved?.run.runId);
  if (!saved) return undefined;
  const topics = topicNames(config.RECO_TOPIC_PREFIX);
  const why =
    checkpointSettingsMismatch(saved.info, fitSettingsFor(config)) ??
    ([topics.eventsClean, topics.catalog, topics.outcomes].some((t) => !saved.run.watermarks[t])
      ? 'it was taken on other topics'
      : undefined);
  if (why) {
    logger.warn(
      { runId: saved.run.runId, epoch: saved.epoch, why },
      'checkpoint does not fit: training starts over',
    );
    await checkpoints.remove(saved.run.runId);
    return undefined;
  }
  return saved;
}

/**
 * One training run: replay the log → split by time → train the candidate → compare with the
 * live version on the same holdout → publish only if the gate lets it through.
 *
 * With checkpoints, every epoch is checkpointed; a run that finds an interrupted run's
 * checkpoint finishes that run instead: it replays the log up to the same offsets (so it
 * trains on the same data) and continues training from the checkpoint's epoch. `signal`
 * interrupts a run promptly (outcome 'interrupted'; the checkpoint stays for the next run).
 */
export async function runTraining(deps: {
  kafka: Kafka;
  producer: Producer;
  store: ModelStore;
  config: TrainerConfig;
  logger: Logger;
  /** Absent: no checkpoints (an interrupted run is lost). */
  checkpoints?: CheckpointStore;
  signal?: AbortSignal;
  onEpoch?: (epoch: number, loss: number, valNdcg10?: number) => void;
  onCheckpoint?: (epoch: number) => void;
  onResume?: (epoch: number) => void;
}): Promise<RunReport> {
  const { kafka, producer, store, config, logger, checkpoints, signal } = deps;
  const started = Date.now();
  const topics = topicNames(config.RECO_TOPIC_PREFIX);
  const seconds = () => (Date.now() - started) / 1000;
  const interrupted = (reason: string, more: Partial<RunReport> = {}): RunReport => ({
    outcome: 'interrupted',
    reason,
    users: 0,
    items: 0,
    ...more,
    seconds: seconds(),
  });

  let saved = checkpoints ? await resumableCheckpoint(checkpoints, config, logger) : undefined;
  let data = await replayAndSplit(kafka, config, signal, saved?.run.watermarks);
  if (signal?.aborted) return interrupted('interrupted while replaying the log');
  if (saved && checkpoints) {
    const why = checkpointMismatch(saved.info, fitInputOf(data.split, data.content), fitSettingsFor(config));
    if (why) {
      logger.warn(
        { runId: saved.run.runId, epoch: saved.epoch, why },
        'checkpoint does not fit: training starts over',
      );
      await checkpoints.remove(saved.run.runId);
      saved = undefined;
      data = await replayAndSplit(kafka, config, signal); // the log as it is now
      if (signal?.aborted) return interrupted('interrupted while replaying the log');
    }
  }
  const { split } = data;
  const base = { users: data.users, items: split.itemIds.length };
  logger.info(
    {
      ...base,
      events: data.events,
      holdoutCases: split.holdout.length,
      validation: split.validation.length,
    },
    'replayed the event log',
  );
  if (split.holdout.length < config.TRAINER_MIN_HOLDOUT_CASES) {
    const reason = `only ${split.holdout.length} holdout cases (need ${config.TRAINER_MIN_HOLDOUT_CASES}): not enough data yet`;
    logger.warn(reason);
    if (saved) await checkpoints?.remove(saved.run.runId);
    return { outcome: 'skipped', reason, ...base, seconds: seconds() };
  }

  const settings: FitSettings = {
    ...fitSettingsFor(config),
    signal,
    log: (message, fields) => logger.debug(fields ?? {}, message),
    onEpoch: (e) => deps.onEpoch?.(e.epoch, e.loss, e.valNdcg10),
  };
  // The live version both warm-starts the candidate and is what the candidate must beat.
  const liveVersion = await store.live();
  const liveModel = liveVersion ? await SequenceModel.load(await store.localPath(liveVersion)) : undefined;
  let warmStartedFrom: string | undefined;
  if (saved) {
    try {
      settings.resumeFrom = await saved.load();
      warmStartedFrom = saved.run.warmStartedFrom; // the weights descend from it
      logger.info({ runId: saved.run.runId, epoch: saved.epoch }, 'training resumed from checkpoint');
      deps.onResume?.(saved.epoch);
    } catch (err) {
      logger.warn(
        { err: String(err), runId: saved.run.runId },
        'unreadable checkpoint: training starts over',
      );
      await checkpoints?.remove(saved.run.runId);
    }
  }
  if (!settings.resumeFrom && config.TRAINER_WARM_START && liveModel) {
    settings.warmStart = liveModel;
    warmStartedFrom = liveVersion;
  }
  const run: CheckpointRun = {
    runId: settings.resumeFrom && saved ? saved.run.runId : runIdFor(new Date(started)),
    startedAt: saved?.run.startedAt ?? new Date(started).toISOString(),
    watermarks: data.watermarks,
    warmStartedFrom,
  };
  const ids = { runId: run.runId, resumedFromEpoch: settings.resumeFrom?.epoch };
  if (!settings.resumeFrom) await checkpoints?.prune();
  if (checkpoints) {
    settings.onCheckpoint = async (cp) => {
      try {
        await checkpoints.save(run, cp);
        logger.info({ runId: run.runId, epoch: cp.epoch }, 'training checkpoint written');
        deps.onCheckpoint?.(cp.epoch);
      } catch (err) {
        // training goes on; an interruption would then resume from an older checkpoint
        logger.warn(
          { err: String(err), runId: run.runId, epoch: cp.epoch },
          'training checkpoint not written',
        );
      }
    };
  }
  let fitted: FittedModel;
  try {
    fitted = await fitServedModel(split, data.content, settings, { transitions: config.TRAINER_TRANSITIONS });
  } catch (err) {
    liveModel?.dispose();
    if (!(err instanceof TrainingAbortedError)) throw err;
    const next = checkpoints
      ? 'the next run resumes from its checkpoint'
      : 'checkpoints are off: the next run starts over';
    return interrupted(`interrupted after epoch ${err.lastCompletedEpoch}; ${next}`, {
      ...ids,
      ...base,
      lastEpoch: err.lastCompletedEpoch,
      warmStartedFrom,
    });
  }
  const candidate = evaluateOnHoldout(fitted.model, split.holdout);

  let live: RunReport['live'];
  if (liveModel && liveVersion) {
    try {
      live = { ...evaluateOnHoldout(liveModel, split.holdout), version: liveVersion };
    } finally {
      liveModel.dispose();
    }
  }
  const decision: GateDecision = qualityGate(candidate, live, {
    tolerance: config.TRAINER_GATE_TOLERANCE,
    minCases: config.TRAINER_MIN_HOLDOUT_CASES,
  });
  logger.info(
    { candidate, live, decision, epochs: fitted.epochs, trainSeconds: fitted.trainSeconds },
    'quality gate',
  );
  if (!decision.publish) {
    fitted.model.dispose();
    await checkpoints?.remove(run.runId); // the run is over: its checkpoint has served
    return {
      outcome: 'refused',
      ...ids,
      reason: decision.reason,
      candidate,
      live,
      warmStartedFrom,
      ...base,
      seconds: seconds(),
    };
  }

  const now = new Date();
  const version = versionName(config.TRAINER_MODEL_NAME, now);
  const watermark = formatWatermark({
    [topics.eventsClean]: data.watermarks[topics.eventsClean]!,
    [topics.catalog]: data.watermarks[topics.catalog]!,
  });
  const metrics: Record<string, number> = {
    'holdout_NDCG@10': candidate.ndcg10,
    'holdout_HR@10': candidate.hr10,
    holdout_cases: candidate.cases,
    train_seconds: fitted.trainSeconds,
    epochs: fitted.epochs,
  };
  if (fitted.bestValNdcg10 !== null) metrics['val_NDCG@10'] = fitted.bestValNdcg10;
  if (live) metrics['live_holdout_NDCG@10'] = live.ndcg10;
  const uri = await store.put(version, (dir) =>
    fitted.model.save(dir, { version, dataWatermark: watermark, metrics }),
  );
  await store.setLive(version);
  const message: ModelPublished = {
    modelVersion: version,
    modelName: config.TRAINER_MODEL_NAME,
    publishedAt: now,
    artifactUri: uri,
    itemCount: fitted.model.numItems,
    embeddingDim: fitted.model.dim,
    metrics,
    dataWatermark: watermark,
    previousVersion: liveVersion ?? '',
  };
  await producer.send({
    topic: topics.modelPublished,
    messages: [
      {
        key: config.TRAINER_MODEL_NAME,
        value: Buffer.from(ModelPublished.encode(message).finish()),
        headers: recordHeaders('modelPublished'),
      },
    ],
  });
  fitted.model.dispose();
  await checkpoints?.remove(run.runId);
  logger.info({ version, uri }, 'published model version');
  return {
    outcome: 'published',
    ...ids,
    reason: decision.reason,
    version,
    candidate,
    live,
    warmStartedFrom,
    ...base,
    seconds: seconds(),
  };
}
