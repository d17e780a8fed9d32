import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Kafka, logLevel } from 'kafkajs';
import { RecommenderClient, TOPICS, type RankedItems, type TopicId } from '@reco/contracts';
import { ensureTopics } from '@reco/platform';
import { ServiceProcess, type LogEntry } from './processes';

export interface StackOptions {
  /** Where logs, pid files and the model store of this run go. */
  runDir: string;
  /** Topic and Redis key prefix of this run. */
  prefix: string;
  brokers: string;
  redisUrl: string;
  pseudonymizationKey: string;
  /** The A/B experiment inference serves and feedback reports (RECO_EXPERIMENT). */
  experiment: unknown;
  /** TRAINER_* settings (model size, time budget). */
  trainer: Record<string, string>;
  partitions: number;
}

const REPO = join(__dirname, '..', '..', '..');
const mainOf = (service: string) => join(REPO, 'services', service, 'dist', 'main.js');
const port = (e: LogEntry) => Number(e.port);

/** The five services of the product, started as separate processes on one Kafka and Redis. */
export class Stack {
  private constructor(
    readonly services: Record<'ingest' | 'features' | 'inference' | 'trainer' | 'feedback', ServiceProcess>,
    readonly ports: {
      ingest: number;
      features: number;
      inference: number;
      trainer: number;
      feedback: number;
      grpc: number;
    },
    readonly client: RecommenderClient,
  ) {}

  static async start(o: StackOptions, log: (s: string) => void = () => undefined): Promise<Stack> {
    // Every topic of the run up front, with the run's partition count (the services would
    // create missing ones too, each with its own defaults).
    const kafka = new Kafka({
      clientId: 'reco-stack',
      brokers: o.brokers.split(','),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, Object.keys(TOPICS) as TopicId[], {
      prefix: o.prefix,
      partitions: o.partitions,
      replicationFactor: 1,
    });
    await admin.disconnect();
    const common = {
      KAFKA_BROKERS: o.brokers,
      REDIS_URL: o.redisUrl,
      RECO_TOPIC_PREFIX: o.prefix,
      RECO_TOPIC_PARTITIONS: String(o.partitions),
      REDIS_KEY_PREFIX: `reco:${o.prefix}`,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    };
    const experiment = JSON.stringify(o.experiment);
    const start = (name: string, env: Record<string, string>) =>
      ServiceProcess.start(name, mainOf(name), { ...common, ...env }, o.runDir);
    log('starting ingest, features, inference and trainer');
    const ingest = start('ingest', {
      RECO_PSEUDONYMIZATION_KEY: o.pseudonymizationKey,
      INGEST_GROUP_ID: `${o.prefix}ingest`,
      INGEST_TRANSACTIONAL_ID: `${o.prefix}ingest`,
    });
    const features = start('features', { FEATURES_GROUP_ID: `${o.prefix}features` });
    const inference = start('inference', {
      INFERENCE_GROUP_ID: `${o.prefix}inference`,
      GRPC_PORT: '0',
      GRPC_HOST: '127.0.0.1',
      RECO_EXPERIMENT: experiment,
      RECO_PSEUDONYMIZATION_KEY: o.pseudonymizationKey,
    });
    const trainer = start('trainer', {
      MODEL_STORE_DIR: join(o.runDir, 'models'),
      TRAINER_RUN_ON_START: 'false',
      TRAINER_INTERVAL_MINUTES: '0',
      ...o.trainer,
    });
    const T = 120_000;
    const [pIngest, pFeatures, pInference, pTrainer, pGrpc] = await Promise.all([
      ingest.waitFor('http listening', T).then(port),
      features.waitFor('http listening', T).then(port),
      inference.waitFor('http listening', T).then(port),
      trainer.waitFor('http listening', T).then(port),
      inference.waitFor('grpc listening', T).then(port),
      ingest.waitFor('ingest consuming', T),
      features.waitFor('features consuming', T),
    ]);
    log('starting feedback (and its dashboard)');
    const scrape = [
      `ingest=http://127.0.0.1:${pIngest}/metrics`,
      `features=http://127.0.0.1:${pFeatures}/metrics`,
      `inference=http://127.0.0.1:${pInference}/metrics`,
      `trainer=http://127.0.0.1:${pTrainer}/metrics`,
    ].join(',');
    const feedback = start('feedback', {
      FEEDBACK_GROUP_ID: `${o.prefix}feedback`,
      RECO_EXPERIMENT: experiment,
      FEEDBACK_SCRAPE_TARGETS: scrape,
    });
    const pFeedback = port(await feedback.waitFor('http listening', T));
    const client = new RecommenderClient(`127.0.0.1:${pGrpc}`, grpc.credentials.createInsecure());
    return new Stack(
      { ingest, features, inference, trainer, feedback },
      {
        ingest: pIngest,
        features: pFeatures,
        inference: pInference,
        trainer: pTrainer,
        feedback: pFeedback,
        grpc: pGrpc,
      },
      client,
    );
  }

  recommend(userId: string, k: number, timeoutMs = 5000): Promise<RankedItems> {
    return new Promise((resolve, reject) =>
      this.client.recommend(
        { userId, k, context: undefined, filters: undefined },
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => (err ? reject(err) : resolve(res)),
      ),
    );
  }

  /** One training run on demand; resolves with its report once it finished. */
  async train(timeoutMs: number): Promise<Record<string, unknown>> {
    const before = this.services.trainer.entries.filter((e) => e.msg === 'training run finished').length;
    const res = await fetch(`http://127.0.0.1:${this.ports.trainer}/train`, { method: 'POST' });
    if (res.status !== 202) throw new Error(`POST /train answered ${res.status}`);
    let n = 0;
    const done = await this.services.trainer.waitFor('training run finished', timeoutMs, () => ++n > before);
    return done.report as Record<string, unknown>;
  }

  /** A counter's value from a service's /metrics (sum over the label sets that match). */
  async metric(service: keyof Stack['ports'], name: string, labelFilter = ''): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${this.ports[service]}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      if (!line.startsWith(name) || (labelFilter && !line.includes(labelFilter))) continue;
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (line.slice(name.length).match(/^(\{| )/) && Number.isFinite(value)) sum += value;
    }
    return sum;
  }

  async feedbackMetrics<T>(): Promise<T> {
    return (await (await fetch(`http://127.0.0.1:${this.ports.feedback}/api/metrics`)).json()) as T;
  }

  async stop(): Promise<void> {
    this.client.close();
    await Promise.all(Object.values(this.services).map((s) => s.stop()));
  }
}
