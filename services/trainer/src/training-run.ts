import type { Kafka, Producer } from 'kafkajs';
import { ModelPublished, topicNames } from '@reco/contracts';
import { SequenceModel, type FitSettings } from '@reco/model';
import type { Logger } from '@reco/platform';
import type { TrainerConfig } from './config';
import { buildHistories } from './domain/histories';
import { qualityGate, type GateDecision, type HoldoutMetrics } from './domain/quality-gate';
import { splitByTime } from './domain/split';
import { formatWatermark, replayCatalog, replayInteractions, replayOutcomes } from './adapters/event-log';
import { outcomeBonuses } from './domain/outcome-weights';
import type { ModelStore } from './adapters/model-store';
import { evaluateOnHoldout, fitServedModel } from './model-fitting';

export interface RunReport {
  outcome: 'published' | 'refused' | 'skipped';
  reason: string;
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

/**
 * One training run: replay the log → split by time → train the candidate → compare with the
 * live version on the same holdout → publish only if the gate lets it through.
 */
export async function runTraining(deps: {
  kafka: Kafka;
  producer: Producer;
  store: ModelStore;
  config: TrainerConfig;
  logger: Logger;
  onEpoch?: (epoch: number, loss: number, valNdcg10?: number) => void;
}): Promise<RunReport> {
  const { kafka, producer, store, config, logger } = deps;
  const started = Date.now();
  const topics = topicNames(config.RECO_TOPIC_PREFIX);
  const seconds = () => (Date.now() - started) / 1000;

  const [events, catalog, feedback] = await Promise.all([
    replayInteractions(kafka, topics.eventsClean),
    replayCatalog(kafka, topics.catalog),
    replayOutcomes(kafka, topics.outcomes),
  ]);
  const histories = buildHistories(events.interactions);
  const bonuses = outcomeBonuses(feedback.outcomes);
  const split = splitByTime(histories, config.TRAINER_HOLDOUT_FRACTION, catalog.content.keys(), bonuses);
  const base = { users: histories.size, items: split.itemIds.length };
  logger.info(
    {
      ...base,
      events: events.interactions.length,
      holdoutCases: split.holdout.length,
      validation: split.validation.length,
    },
    'replayed the event log',
  );
  if (split.holdout.length < config.TRAINER_MIN_HOLDOUT_CASES) {
    const reason = `only ${split.holdout.length} holdout cases (need ${config.TRAINER_MIN_HOLDOUT_CASES}): not enough data yet`;
    logger.warn(reason);
    return { outcome: 'skipped', reason, ...base, seconds: seconds() };
  }

  const settings: FitSettings = {
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
    log: (message, fields) => logger.debug(fields ?? {}, message),
    onEpoch: (e) => deps.onEpoch?.(e.epoch, e.loss, e.valNdcg10),
  };
  // The live version both warm-starts the candidate and is what the candidate must beat.
  const liveVersion = await store.live();
  const liveModel = liveVersion ? await SequenceModel.load(await store.localPath(liveVersion)) : undefined;
  if (config.TRAINER_WARM_START && liveModel) settings.warmStart = liveModel;
  const warmStartedFrom = settings.warmStart ? liveVersion : undefined;
  const fitted = await fitServedModel(split, catalog.content.size ? catalog.content : undefined, settings, {
    transitions: config.TRAINER_TRANSITIONS,
  });
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
    return {
      outcome: 'refused',
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
    [topics.eventsClean]: events.watermark,
    [topics.catalog]: catalog.watermark,
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
        headers: { 'content-type': 'application/x-protobuf' },
      },
    ],
  });
  fitted.model.dispose();
  logger.info({ version, uri }, 'published model version');
  return {
    outcome: 'published',
    reason: decision.reason,
    version,
    candidate,
    live,
    warmStartedFrom,
    ...base,
    seconds: seconds(),
  };
}
