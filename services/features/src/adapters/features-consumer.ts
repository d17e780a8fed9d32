import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { ClickstreamEvent, EventType, topicNames } from '@reco/contracts';
import { ConsumerState, ensureTopics, exitProcess, type Logger } from '@reco/platform';
import { Interaction, itemHash } from '@reco/realtime';
import type { FeaturesConfig } from '../config';
import { INTERACTION_WEIGHT, applyEvents, type StateLimits, type UserEvent } from '../domain/user-events';
import type { CatalogView } from './catalog-view';
import type { FeaturesMetrics } from './features-metrics';
import type { ModelHolder } from './model-holder';
import type { PopularityStore } from './popularity-store';
import type { UserStore } from './user-store';

const KIND: Partial<Record<EventType, Interaction>> = {
  [EventType.EVENT_TYPE_VIEW]: Interaction.View,
  [EventType.EVENT_TYPE_CLICK]: Interaction.Click,
  [EventType.EVENT_TYPE_ADD_TO_CART]: Interaction.Cart,
  [EventType.EVENT_TYPE_PURCHASE]: Interaction.Purchase,
};

const MAX_CAS_ATTEMPTS = 5;

/**
 * The Kafka edge of features: each batch of clean events (one partition, so each user's
 * events in order) updates those users' state, re-encodes the users whose sequence changed
 * (micro-batched across partitions), writes each user once with compare-and-set, and counts
 * item popularity. Offsets are committed after the writes (at least once).
 */
export class FeaturesConsumer {
  private consumer?: Consumer;
  private readonly state: ConsumerState;
  private readonly topics: ReturnType<typeof topicNames>;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: FeaturesConfig,
    private readonly deps: {
      limits: StateLimits;
      store: UserStore;
      popularity: PopularityStore;
      holder: ModelHolder;
      catalog: CatalogView;
    },
    private readonly metrics: FeaturesMetrics,
    private readonly logger: Logger,
  ) {
    this.topics = topicNames(config.RECO_TOPIC_PREFIX);
    this.state = new ConsumerState(logger, exitProcess(logger));
  }

  get isRunning(): boolean {
    return this.state.isConsuming;
  }

  async ensureTopics(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, ['eventsClean', 'catalog', 'modelPublished'], {
        prefix: this.config.RECO_TOPIC_PREFIX,
        partitions: this.config.RECO_TOPIC_PARTITIONS,
        replicationFactor: this.config.KAFKA_REPLICATION_FACTOR,
      });
    } finally {
      await admin.disconnect();
    }
  }

  async start(): Promise<void> {
    this.consumer = this.kafka.consumer({
      groupId: this.config.FEATURES_GROUP_ID,
      readUncommitted: false,
      sessionTimeout: this.config.FEATURES_SESSION_TIMEOUT_MS,
      heartbeatInterval: Math.min(3000, Math.floor(this.config.FEATURES_SESSION_TIMEOUT_MS / 6)),
      maxWaitTimeInMs: 100,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topics.eventsClean, fromBeginning: true });
    this.state.watch(this.consumer);
    await this.consumer.run({
      partitionsConsumedConcurrently: this.config.FEATURES_CONCURRENCY,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    this.logger.info({ topic: this.topics.eventsClean }, 'features consuming');
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  private async handleBatch({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const started = process.hrtime.bigint();
    const perUser = new Map<string, { events: UserEvent[]; times: number[] }>();
    const popularity: { item: string; weight: number; at: number }[] = [];
    const nowMs = Date.now();
    for (const m of batch.messages) {
      if (!m.value) continue;
      let event: ClickstreamEvent;
      try {
        event = ClickstreamEvent.decode(m.value);
      } catch (err) {
        // ingest only publishes valid events; a foreign message is skipped, not fatal
        this.logger.warn({ offset: m.offset, err: String(err) }, 'undecodable clean event skipped');
        continue;
      }
      this.metrics.events.inc({ type: EventType[event.type] ?? 'unknown' });
      const kind = KIND[event.type];
      if (kind === undefined || !event.itemId || !event.userId) continue;
      const atMs = event.timestamp ? event.timestamp.getTime() : nowMs;
      const at = Math.floor(Math.min(atMs, nowMs) / 1000);
      let u = perUser.get(event.userId);
      if (!u) perUser.set(event.userId, (u = { events: [], times: [] }));
      u.events.push({
        kind,
        item: itemHash(event.itemId),
        category: this.deps.catalog.category(event.itemId),
        at,
      });
      u.times.push(atMs);
      popularity.push({ item: event.itemId, weight: INTERACTION_WEIGHT[kind], at });
    }
    await Promise.all([
      this.deps.popularity.record(popularity),
      ...[...perUser].map(([userId, u]) => this.updateUser(userId, u.events)),
    ]);
    const written = Date.now();
    for (const u of perUser.values())
      for (const t of u.times) this.metrics.eventToVector.observe(Math.max(0, written - t) / 1000);
    resolveOffset(batch.lastOffset());
    this.metrics.lag.set({ partition: String(batch.partition) }, Number(batch.offsetLag()));
    this.metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  private async updateUser(userId: string, events: UserEvent[]): Promise<void> {
    const { store, holder, limits } = this.deps;
    for (let attempt = 1; ; attempt++) {
      const stored = await store.read(userId);
      const { state, sequenceChanged } = applyEvents(stored.state, events, limits);
      const tag = holder.tag;
      if (tag !== undefined && (sequenceChanged || state.vector?.modelTag !== tag)) {
        const vector = await holder.encode(state.recent.map((r) => r.item));
        if (vector) state.vector = vector;
      }
      if (await store.write(userId, stored.raw, state)) return;
      this.metrics.casRetries.inc();
      if (attempt >= MAX_CAS_ATTEMPTS) throw new Error(`user state of ${userId} kept changing concurrently`);
    }
  }
}
