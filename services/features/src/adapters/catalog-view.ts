import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { CatalogItem } from '@reco/contracts';
import { categoryKey, hash32 } from '@reco/realtime';
import type { FeaturesMetrics } from './features-metrics';

/**
 * Item -> category from the compacted catalog topic (every replica reads all of it, with a group
 * of its own), for category affinities.
 */
export class CatalogView {
  private consumer?: Consumer;
  private readonly categoryOf = new Map<string, number>();

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly groupPrefix: string,
    private readonly metrics: FeaturesMetrics,
  ) {}

  category(itemId: string): number | undefined {
    return this.categoryOf.get(itemId);
  }

  async start(): Promise<void> {
    this.consumer = this.kafka.consumer({
      groupId: `${this.groupPrefix}-catalog-${randomUUID()}`,
      readUncommitted: false,
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (!m.key) continue;
          if (!m.value) {
            this.categoryOf.delete(m.key.toString()); // tombstone
            continue;
          }
          const item = CatalogItem.decode(m.value);
          if (item.categoryPath.length)
            this.categoryOf.set(item.itemId, hash32(categoryKey(item.categoryPath)));
        }
        this.metrics.catalogItems.set(this.categoryOf.size);
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
