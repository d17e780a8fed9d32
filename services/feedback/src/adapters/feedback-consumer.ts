import type { Admin, Consumer, EachBatchPayload, Kafka, Producer } from 'kafkajs';
import { ClickstreamEvent, EventType, Impression, recordHeaders, topicNames } from '@reco/contracts';
import { ConsumerState, ensureTopics, exitProcess, type Logger } from '@reco/platform';
import { attributionOptions, type FeedbackConfig } from '../config';
import { Attributor, type Effect, type EventInput, type OutcomeKind } from '../domain/attribution';
import { incrementsFrom } from '../domain/online-metrics';
import { outcomeOf, outcomeTypeName } from '../domain/outcomes';
import { Outcome, OutcomeType } from '@reco/contracts';
import { CoPartitionedAssigner } from './co-partitioned-assigner';
import type { FeedbackMetrics } from './feedback-metrics';
import type { FeedbackStore } from './redis-store';

const OUTCOME_KINDS: Partial<Record<EventType, OutcomeKind>> = {
  [EventType.EVENT_TYPE_CLICK]: 'click',
  [EventType.EVENT_TYPE_ADD_TO_CART]: 'add_to_cart',
  [EventType.EVENT_TYPE_PURCHASE]: 'purchase',
};

interface PartitionWorker {
  attributor: Attributor;
  /** Serializes the batches of both topics and the ticks of one partition. */
  lock: Promise<unknown>;
}

/**
 * The Kafka edge of feedback: consumes impressions and clean events (read_committed) in one
 * group whose assigner keeps partition p of both topics on one member; per partition, an
 * Attributor (domain/attribution) restored from Redis. Each batch and each tick: attribute,
 * publish the labeled outcomes (acks from all replicas), then write the partition's changed
 * users, watermarks and metric increments to Redis in one transaction, then let the offsets
 * be committed. A crash re-delivers at most the batches after the last commit: their ids are
 * in the saved state, so they count nothing twice; outcomes published before the crash may be
 * published again, with the same outcome_id (at least once).
 */
export class FeedbackConsumer {
  private consumer?: Consumer;
  private producer?: Producer;
  private admin?: Admin;
  private readonly workers = new Map<number, Promise<PartitionWorker>>();
  private assigned = new Set<number>();
  private readonly impressionLag = new Map<number, number>();
  private tickTimer?: NodeJS.Timeout;
  private readonly state: ConsumerState;
  private readonly topics: ReturnType<typeof topicNames>;
  readonly outcomesTopic: string;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: FeedbackConfig,
    private readonly store: FeedbackStore,
    private readonly metrics: FeedbackMetrics,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.topics = topicNames(config.RECO_TOPIC_PREFIX);
    this.state = new ConsumerState(logger, exitProcess(logger));
    this.outcomesTopic = this.topics.outcomes;
  }

  get isRunning(): boolean {
    return this.state.isConsuming;
  }

  async start(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
    const topicOptions = {
      prefix: this.config.RECO_TOPIC_PREFIX,
      partitions: this.config.RECO_TOPIC_PARTITIONS,
      replicationFactor: this.config.KAFKA_REPLICATION_FACTOR,
    };
    await ensureTopics(
      this.admin,
      ['impressions', 'eventsClean', 'modelPublished', 'catalog', 'outcomes'],
      topicOptions,
    );
    const counts = await this.admin.fetchTopicMetadata({
      topics: [this.topics.impressions, this.topics.eventsClean],
    });
    const [imps, events] = counts.topics.map((t) => t.partitions.length);
    if (imps !== events)
      throw new Error(
        `${this.topics.impressions} has ${imps} partitions and ${this.topics.eventsClean} ${events}: ` +
          'feedback joins them per partition, so they must have the same count (and both be keyed by user)',
      );

    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await this.producer.connect();
    this.consumer = this.kafka.consumer({
      groupId: this.config.FEEDBACK_GROUP_ID,
      readUncommitted: false,
      sessionTimeout: this.config.FEEDBACK_SESSION_TIMEOUT_MS,
      heartbeatInterval: Math.min(3000, Math.floor(this.config.FEEDBACK_SESSION_TIMEOUT_MS / 6)),
      partitionAssigners: [CoPartitionedAssigner],
      maxBytesPerPartition: 2 * 1024 * 1024,
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const assignment = e.payload.memberAssignment as Record<string, number[]>;
      const next = new Set([
        ...(assignment[this.topics.impressions] ?? []),
        ...(assignment[this.topics.eventsClean] ?? []),
      ]);
      // State of a partition that left is reloaded from Redis if it comes back.
      for (const p of this.workers.keys()) if (!next.has(p)) this.workers.delete(p);
      this.assigned = next;
      this.logger.info({ partitions: [...next].sort((a, b) => a - b) }, 'feedback partitions assigned');
    });
    this.state.watch(this.consumer);
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [this.topics.impressions, this.topics.eventsClean],
      fromBeginning: true,
    });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.config.FEEDBACK_CONCURRENCY,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    this.tickTimer = setInterval(() => void this.tick(), this.config.FEEDBACK_TICK_MS);
    this.logger.info(
      { topics: [this.topics.impressions, this.topics.eventsClean], outcomes: this.outcomesTopic },
      'feedback consuming',
    );
  }

  async stop(): Promise<void> {
    if (this.tickTimer) clearInterval(this.tickTimer);
    await this.consumer?.disconnect();
    // Let a tick in flight finish its write.
    await Promise.all([...this.workers.values()].map(async (w) => (await w).lock.catch(() => undefined)));
    await this.producer?.disconnect();
    await this.admin?.disconnect();
  }

  /** Pending events and users held, over the partitions this replica owns. */
  async stateSize(): Promise<{ pending: number; users: number }> {
    let pending = 0;
    let users = 0;
    for (const w of this.workers.values()) {
      const { attributor } = await w;
      pending += attributor.pendingCount;
      users += attributor.userCount;
    }
    return { pending, users };
  }

  private worker(partition: number): Promise<PartitionWorker> {
    let w = this.workers.get(partition);
    if (!w) {
      w = this.store.loadPartition(partition).then(({ marks, users }) => {
        this.logger.info({ partition, users: users.length }, 'attribution state restored');
        return {
          attributor: new Attributor(attributionOptions(this.config), { marks, users, now: this.now() }),
          lock: Promise.resolve(),
        };
      });
      w.catch(() => this.workers.delete(partition));
      this.workers.set(partition, w);
    }
    return w;
  }

  /** Runs fn with the partition's lock held. */
  private async withPartition<T>(partition: number, fn: (a: Attributor) => Promise<T>): Promise<T> {
    const worker = await this.worker(partition);
    const run = worker.lock
      .catch(() => undefined)
      .then(() => fn(worker.attributor))
      .catch((err) => {
        // The in-memory state may be ahead of Redis now: reload it (the batch is re-delivered,
        // a tick's step is re-done).
        this.workers.delete(partition);
        throw err;
      });
    worker.lock = run;
    return run;
  }

  private caughtUp(partition: number): boolean {
    return (this.impressionLag.get(partition) ?? Infinity) <= 1;
  }

  private async handleBatch({
    batch,
    resolveOffset,
    heartbeat,
    isRunning,
    isStale,
  }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const started = process.hrtime.bigint();
    const isImpressions = batch.topic === this.topics.impressions;
    await this.withPartition(batch.partition, async (attributor) => {
      const now = this.now();
      const effects: Effect[] = [];
      for (const m of batch.messages) {
        if (!m.value) continue;
        const fallbackTime = Number(m.timestamp);
        try {
          if (isImpressions) {
            const imp = Impression.decode(m.value);
            effects.push(
              ...attributor.addImpression(
                {
                  requestId: imp.requestId,
                  userId: imp.userId,
                  time: imp.timestamp?.getTime() ?? fallbackTime,
                  modelVersion: imp.modelVersion,
                  arm: imp.experimentArm,
                  surface: imp.surface,
                  items: imp.items.map((i) => ({ itemId: i.itemId, position: i.position })),
                },
                now,
              ),
            );
          } else {
            const e = ClickstreamEvent.decode(m.value);
            const time = e.timestamp?.getTime() ?? fallbackTime;
            const kind = OUTCOME_KINDS[e.type];
            if (!kind || !e.itemId || !e.userId) {
              attributor.observeEventTime(time);
              continue;
            }
            const event: EventInput = {
              eventId: e.eventId,
              userId: e.userId,
              itemId: e.itemId,
              kind,
              time,
              revenue: kind === 'purchase' ? e.price * Math.max(1, e.quantity) : 0,
            };
            effects.push(...attributor.addEvent(event, now));
          }
        } catch (err) {
          // Upstream topics are typed; a message that does not decode is logged, not fatal.
          this.logger.warn(
            { topic: batch.topic, offset: m.offset, err: String(err) },
            'undecodable message skipped',
          );
        }
      }
      if (isImpressions) this.impressionLag.set(batch.partition, Number(batch.offsetLag()));
      effects.push(...attributor.advance(now, this.caughtUp(batch.partition)));
      await this.persist(batch.partition, attributor, effects);
    });
    resolveOffset(batch.lastOffset());
    await heartbeat();
    this.metrics.messagesIn.inc({ topic: batch.topic }, batch.messages.length);
    this.metrics.stepSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** Advances idle partitions (their watermarks move with processing time) and reads lag. */
  private async tick(): Promise<void> {
    if (!this.isRunning) return;
    try {
      await this.readLag();
      for (const partition of this.assigned) {
        await this.withPartition(partition, async (attributor) => {
          const effects = attributor.advance(this.now(), this.caughtUp(partition));
          if (effects.length) await this.persist(partition, attributor, effects);
        });
      }
      const size = await this.stateSize();
      this.metrics.pending.set(size.pending);
      this.metrics.users.set(size.users);
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'feedback tick failed');
    }
  }

  private async readLag(): Promise<void> {
    if (!this.admin) return;
    for (const topic of [this.topics.impressions, this.topics.eventsClean]) {
      const [high, [committed]] = await Promise.all([
        this.admin.fetchTopicOffsets(topic),
        this.admin.fetchOffsets({ groupId: this.config.FEEDBACK_GROUP_ID, topics: [topic] }),
      ]);
      const position = new Map(committed.partitions.map((p) => [p.partition, Number(p.offset)]));
      for (const p of high) {
        const pos = position.get(p.partition) ?? -1;
        const lag = Number(p.high) - (pos < 0 ? Number(p.low) : pos);
        this.metrics.lag.set({ topic, partition: String(p.partition) }, lag);
        if (topic === this.topics.impressions) this.impressionLag.set(p.partition, lag);
      }
    }
  }

  private async persist(partition: number, attributor: Attributor, effects: Effect[]): Promise<void> {
    if (!this.assigned.has(partition)) return; // no longer ours: the new owner reloads from Redis
    const outcomes = effects
      .map(outcomeOf)
      .filter((o): o is Outcome => o !== null)
      .filter((o) => this.config.FEEDBACK_PUBLISH_SKIPS || o.type !== OutcomeType.OUTCOME_TYPE_SKIP);
    if (outcomes.length) {
      await this.producer!.send({
        topic: this.outcomesTopic,
        acks: -1,
        messages: outcomes.map((o) => ({
          key: o.userId,
          value: Buffer.from(Outcome.encode(o).finish()),
          headers: recordHeaders('outcomes'),
        })),
      });
    }
    await this.store.savePartition(
      partition,
      attributor.currentMarks,
      attributor.takeDirty(),
      incrementsFrom(effects, this.config.FEEDBACK_BUCKET_SECONDS * 1000),
    );
    for (const o of outcomes)
      this.metrics.outcomes.inc({ type: outcomeTypeName(o.type), arm: o.experimentArm });
    for (const e of effects) {
      if (e.type === 'impression')
        this.metrics.impressions.inc({ model_version: e.impression.modelVersion, arm: e.impression.arm });
      else if (e.type === 'unattributed') this.metrics.unattributed.inc();
      else if (e.type === 'duplicate') this.metrics.duplicates.inc({ stream: e.stream });
      else if (e.type === 'late') this.metrics.late.inc({ stream: e.stream });
      else if (e.type === 'evicted') this.metrics.evicted.inc();
    }
  }
}
