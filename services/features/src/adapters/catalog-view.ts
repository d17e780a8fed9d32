import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { CatalogItem } from '@reco/contracts';
import { fetchTopicEnds } from '@reco/platform';
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
    /** Told of the consumer before it runs, e.g. to watch its health. */
    private readonly onConsumer: (consumer: Consumer) => void = () => undefined,
  ) {}

  category(itemId: string): number | undefined {
    return this.categoryOf.get(itemId);
  }

  /**
   * Starts reading and resolves once the view holds the catalog as it was at start-up (or when
   * `catchUpMs` passes: false then), so that events consumed right after start-up get their
   * categories. Progress is read from the group's committed offsets because kafkajs skips batches
   * holding only transaction markers without calling us, yet commits past them.
   */
  async start(catchUpMs: number): Promise<boolean> {
    const groupId = `${this.groupPrefix}-catalog-${randomUUID()}`;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const ends = await fetchTopicEnds(admin, this.topic);
      this.consumer = this.kafka.consumer({ groupId, readUncommitted: false });
      this.onConsumer(this.consumer);
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
      const pending = ends.filter((p) => BigInt(p.high) > BigInt(p.low));
      const deadline = Date.now() + catchUpMs;
      while (pending.length) {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [this.topic] });
        const at = new Map(committed.partitions.map((p) => [p.partition, BigInt(p.offset)]));
        for (let i = pending.length - 1; i >= 0; i--)
          if ((at.get(pending[i].partition) ?? -1n) >= BigInt(pending[i].high)) pending.splice(i, 1);
        if (!pending.length) break;
        if (Date.now() > deadline) return false;
        await new Promise((r) => setTimeout(r, 100));
      }
      return true;
    } finally {
      await admin.disconnect();
    }
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
