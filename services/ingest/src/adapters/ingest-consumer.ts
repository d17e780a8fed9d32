import type { Consumer, EachBatchPayload, Kafka, Producer, TopicMessages } from 'kafkajs';
import { ConsumerState, ensureTopics, type Logger } from '@reco/platform';
import { topicNames } from '@reco/contracts';
import type { IngestConfig } from '../config';
import {
  ingestCatalog,
  ingestClickstream,
  type BatchOutcome,
  type PipelineDeps,
  type RawMessage,
} from '../pipeline';
import type { IngestMetrics } from './ingest-metrics';
import { SharedHeaders } from './shared-headers';
import { userRoutePartitioner } from '../user-routes';

/** Bytes fetched per partition at most: ~9,000 events of ~220 bytes, one transaction. */
const PARTITION_FETCH_BYTES = 2 * 1024 * 1024;

/**
 * The Kafka edge of ingest. Each consumed batch is published and its offsets committed in
 * one Kafka transaction, so a crash anywhere loses nothing and publishes nothing twice
 * (downstream consumers read with isolation read_committed, kafkajs' default).
 */
export class IngestConsumer {
  private consumer?: Consumer;
  /**
   * Transactional producers (a producer has one open transaction), two per concurrently
   * processed partition, taken in turn (first in, first out): a producer whose transaction
   * has just committed rests while the broker finishes writing that commit. Taken again at
   * once, its next transaction's first request may be refused with CONCURRENT_TRANSACTIONS
   * (5 of 15 back-to-back transactions on one producer in a probe, each then ~300 ms late).
   */
  private readonly idleProducers: Producer[] = [];
  private readonly producers: Producer[] = [];
  /** Per topic/partition: the next offset this process committed, and the batch in progress. */
  private readonly committedUpTo = new Map<string, bigint>();
  private readonly partitionTail = new Map<string, Promise<void>>();
  /** Dedup confirmations of committed batches still in flight. */
  private readonly pendingConfirms = new Set<Promise<void>>();
  private readonly headers = new SharedHeaders();
  private readonly state: ConsumerState;
  private readonly topics: ReturnType<typeof topicNames>;

  constructor(
    private readonly kafka: Kafka,
    private readonly config: IngestConfig,
    private readonly deps: PipelineDeps,
    private readonly metrics: IngestMetrics,
    private readonly logger: Logger,
    /** Called when the process must not go on (an ambiguous transaction commit, a consumer kafkajs gave up on). */
    private readonly onFatal: (err: unknown) => void = () => undefined,
  ) {
    this.topics = topicNames(config.RECO_TOPIC_PREFIX);
    this.state = new ConsumerState(logger, onFatal);
  }

  get isRunning(): boolean {
    return this.state.isConsuming;
  }

  async start(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, ['clickstreamRaw', 'catalogRaw', 'eventsClean', 'catalog', 'deadLetter'], {
        prefix: this.config.RECO_TOPIC_PREFIX,
        partitions: this.config.RECO_TOPIC_PARTITIONS,
        replicationFactor: this.config.KAFKA_REPLICATION_FACTOR,
      });
    } finally {
      await admin.disconnect();
    }
    // One partitioner for all producers: its key → partition memo then serves every batch
    // (clean events bring their partition along in their user's route).
    const partitioner = userRoutePartitioner();
    for (let slot = 0; slot < 2 * this.config.INGEST_CONCURRENCY; slot++) {
      const producer = this.kafka.producer({
        // Stable per replica and slot, so a restarted replica fences its predecessor's
        // unfinished transactions instead of waiting for them to time out.
        transactionalId: `${this.config.INGEST_TRANSACTIONAL_ID}-${slot}`,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 30_000,
        createPartitioner: () => partitioner,
        // CONCURRENT_TRANSACTIONS (the producer's previous commit is still being written) clears
        // within milliseconds: retry after 20 ms, as the Java client does, not kafkajs' 300 ms.
        // Twelve retries doubling from 20 ms wait as long in all as the default eight from 300 ms.
        retry: { initialRetryTime: 20, retries: 12 },
      });
      await producer.connect();
      // kafkajs registers a transactional id with the coordinator only at its first
      // transaction. Do it now, before the consumer reads its committed offsets: this fences
      // the previous owner of the id and waits until its last transaction is fully committed
      // or aborted, so the offsets read next are stable (Kafka's require_stable, which kafkajs
      // lacks). Without it, a batch committed just before a crash is processed again.
      await (await producer.transaction()).abort();
      this.producers.push(producer);
      this.idleProducers.push(producer);
    }
    this.consumer = this.kafka.consumer({
      groupId: this.config.INGEST_GROUP_ID,
      readUncommitted: false,
      sessionTimeout: this.config.INGEST_SESSION_TIMEOUT_MS,
      heartbeatInterval: Math.min(3000, Math.floor(this.config.INGEST_SESSION_TIMEOUT_MS / 6)),
      // Large batches amortize the transaction's round trips.
      maxBytesPerPartition: PARTITION_FETCH_BYTES,
      // A fetch brings no more than the batches processed at once: kafkajs decodes a whole
      // fetch up front, and batches that wait their turn stay alive through scavenges (copied,
      // then promoted). 16 MB against 6 MB at concurrency 3: ~5% more CPU per event.
      maxBytes: this.config.INGEST_CONCURRENCY * PARTITION_FETCH_BYTES,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [this.topics.clickstreamRaw, this.topics.catalogRaw],
      fromBeginning: true,
    });
    this.state.watch(this.consumer);
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.config.INGEST_CONCURRENCY,
      eachBatch: (payload) => this.handleBatch(payload),
    });
    this.logger.info({ topics: [this.topics.clickstreamRaw, this.topics.catalogRaw] }, 'ingest consuming');
  }

  /** Drains the batch in flight, commits, leaves the group. */
  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    await Promise.all(this.pendingConfirms);
    await Promise.all(this.producers.map((p) => p.disconnect()));
  }

  /**
   * Batches of one partition run one after the other, even across a rebalance: a batch that
   * was still committing when the group rebalanced must finish before the partition is read
   * again, and what it committed is not processed twice. (kafkajs reads committed offsets
   * without Kafka's require_stable, so after a rebalance it may hand back offsets that this
   * process's last transaction is about to commit.)
   */
  private handleBatch(payload: EachBatchPayload): Promise<void> {
    const key = `${payload.batch.topic}/${payload.batch.partition}`;
    const run = (this.partitionTail.get(key) ?? Promise.resolve()).then(() =>
      this.processBatch(key, payload),
    );
    this.partitionTail.set(
      key,
      run.catch(() => undefined),
    );
    return run;
  }

  private async processBatch(
    key: string,
    { batch, resolveOffset, isRunning, isStale }: EachBatchPayload,
  ): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const committed = this.committedUpTo.get(key) ?? -1n;
    // Offsets ascend: only a batch starting below what was committed needs filtering.
    const messages =
      BigInt(batch.messages[0]!.offset) >= committed
        ? batch.messages
        : batch.messages.filter((m) => BigInt(m.offset) >= committed);
    if (messages.length === 0) {
      resolveOffset(batch.lastOffset()); // all of it committed by this process already
      return;
    }
    const started = process.hrtime.bigint();
    const raw: RawMessage[] = messages.map((m) => ({
      topic: batch.topic,
      partition: batch.partition,
      offset: m.offset,
      key: m.key,
      value: m.value,
      headers: this.headers.of(m.headers),
    }));
    const outcome: BatchOutcome =
      batch.topic === this.topics.catalogRaw
        ? ingestCatalog(raw, this.deps)
        : await ingestClickstream(raw, this.deps);
    const topicMessages = [
      { topic: this.topics.eventsClean, messages: outcome.clean },
      { topic: this.topics.catalog, messages: outcome.catalog },
      { topic: this.topics.deadLetter, messages: outcome.deadLetters },
    ].filter((t) => t.messages.length > 0);

    const nextOffset = (BigInt(batch.lastOffset()) + 1n).toString();
    // kafkajs runs at most INGEST_CONCURRENCY batches at once, so a producer is always idle;
    // the one idle longest (its last commit is complete at the broker by now, nearly always).
    const producer = this.idleProducers.shift()!;
    try {
      await this.publishTransactionally(producer, batch.topic, batch.partition, topicMessages, nextOffset);
    } finally {
      this.idleProducers.push(producer);
    }
    this.committedUpTo.set(key, BigInt(nextOffset));
    // Best effort: a crash before this leaves marks that a replay from stale offsets would
    // treat as its own; committed offsets make that replay unlikely, this makes it harmless.
    // Not awaited: the next batch need not wait for it (how a later claim classifies an id
    // does not depend on whether this confirm landed first); stop() waits for it.
    if (outcome.claim) {
      const confirming = this.deps.dedup
        .confirm(outcome.claim)
        .catch((err) => this.logger.warn({ err: String(err) }, 'could not confirm dedup marks'));
      this.pendingConfirms.add(confirming);
      void confirming.finally(() => this.pendingConfirms.delete(confirming));
    }
    resolveOffset(batch.lastOffset());

    this.metrics.eventsIn.inc({ topic: batch.topic }, raw.length);
    if (outcome.clean.length)
      this.metrics.eventsOut.inc({ topic: this.topics.eventsClean }, outcome.clean.length);
    if (outcome.catalog.length)
      this.metrics.eventsOut.inc({ topic: this.topics.catalog }, outcome.catalog.length);
    for (const r of outcome.rejections) this.metrics.deadLettered.inc({ reason: r.reason });
    if (outcome.duplicates) this.metrics.duplicates.inc(outcome.duplicates);
    if (outcome.replays) this.metrics.replays.inc(outcome.replays);
    this.logger.debug(
      {
        topic: batch.topic,
        partition: batch.partition,
        from: messages[0].offset,
        to: batch.lastOffset(),
        clean: outcome.clean.length,
        replays: outcome.replays,
      },
      'batch committed',
    );
    this.metrics.lag.set(
      { topic: batch.topic, partition: String(batch.partition) },
      Number(batch.offsetLag()),
    );
    this.metrics.batchSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** Publishes a batch's outputs and commits its offset atomically. */
  private async publishTransactionally(
    producer: Producer,
    topic: string,
    partition: number,
    topicMessages: TopicMessages[],
    nextOffset: string,
  ): Promise<void> {
    const transaction = await producer.transaction();
    try {
      if (topicMessages.length > 0) await transaction.sendBatch({ topicMessages });
      await transaction.sendOffsets({
        consumerGroupId: this.config.INGEST_GROUP_ID,
        topics: [{ topic, partitions: [{ partition, offset: nextOffset }] }],
      });
    } catch (err) {
      await transaction.abort().catch(() => undefined);
      throw err; // nothing was committed: kafkajs retries the batch
    }
    try {
      await transaction.commit();
    } catch (err) {
      // The commit may have succeeded at the broker even though we saw an error; retrying the
      // batch in this process could publish it twice. A restarted process fences this one and
      // reads stable offsets, so hand over to it.
      this.onFatal(err);
      throw err;
    }
  }
}
