import type { Consumer, Kafka } from 'kafkajs';
import { ModelPublished, topicNames } from '@reco/contracts';
import type { Logger } from '@reco/platform';
import type { FeedbackStore } from './redis-store';

export interface ModelVersionInfo {
  modelVersion: string;
  modelName: string;
  publishedAt: number;
  previousVersion: string;
  itemCount: number;
  metrics: Record<string, number>;
}

/**
 * Reads the reference data the dashboard shows, from the beginning at every start (both
 * topics are small): model versions from `reco.model.published.v1` (kept in memory, oldest
 * first) and catalog item ids from the compacted `reco.catalog.v1` (a Redis HyperLogLog: the
 * denominator of catalog coverage). No committed offsets: a throwaway group per process.
 */
export class ReferenceConsumer {
  private consumer?: Consumer;
  private readonly models = new Map<string, ModelVersionInfo>();
  private readonly topics: ReturnType<typeof topicNames>;

  constructor(
    private readonly kafka: Kafka,
    prefix: string,
    private readonly store: FeedbackStore,
    private readonly logger: Logger,
  ) {
    this.topics = topicNames(prefix);
  }

  get modelVersions(): ModelVersionInfo[] {
    return [...this.models.values()].sort((a, b) => a.publishedAt - b.publishedAt);
  }

  async start(): Promise<void> {
    this.consumer = this.kafka.consumer({
      groupId: `reco-feedback-reference-${process.pid}-${Date.now().toString(36)}`,
      readUncommitted: false,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [this.topics.modelPublished, this.topics.catalog],
      fromBeginning: true,
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (batch.topic === this.topics.catalog) {
          const ids = batch.messages.filter((m) => m.key && m.value).map((m) => m.key!.toString());
          await this.store.addCatalogItems(ids);
          return;
        }
        for (const m of batch.messages) {
          if (!m.value) continue;
          try {
            const p = ModelPublished.decode(m.value);
            this.models.set(p.modelVersion, {
              modelVersion: p.modelVersion,
              modelName: p.modelName,
              publishedAt: p.publishedAt?.getTime() ?? Number(m.timestamp),
              previousVersion: p.previousVersion,
              itemCount: p.itemCount,
              metrics: p.metrics,
            });
          } catch (err) {
            this.logger.warn({ offset: m.offset, err: String(err) }, 'undecodable model-published message');
          }
        }
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
