import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { CatalogItem } from '@reco/contracts';
import type { Catalog, ItemFacts } from '../domain/catalog';

/**
 * Materializes the compacted catalog topic in memory (every replica reads all of it with a
 * group of its own). `onItem` indexes the item for search and by content for new items.
 */
export class CatalogConsumer {
  private consumer?: Consumer;
  private caughtUp = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly groupPrefix: string,
    private readonly catalog: Catalog,
    /** The item's description goes to the lexical index only (the catalog does not keep it). */
    private readonly onItem: (item: ItemFacts, description: string) => void,
    private readonly onRemove: (itemId: string) => void,
    /** Told of the consumer before it runs, e.g. to watch its health. */
    private readonly onConsumer: (consumer: Consumer) => void = () => undefined,
  ) {}

  get isCaughtUp(): boolean {
    return this.caughtUp;
  }

  async start(): Promise<void> {
    this.consumer = this.kafka.consumer({
      groupId: `${this.groupPrefix}-catalog-${randomUUID()}`,
      readUncommitted: false,
    });
    this.onConsumer(this.consumer);
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          if (!m.key) continue;
          const id = m.key.toString();
          if (!m.value) {
            this.catalog.remove(id);
            this.onRemove(id);
            continue;
          }
          const c = CatalogItem.decode(m.value);
          const facts = this.catalog.upsert({
            itemId: c.itemId,
            title: c.title,
            brand: c.brand,
            categoryPath: c.categoryPath,
            price: c.price,
            inStock: c.inStock,
            createdAt: c.createdAt ? c.createdAt.getTime() : 0,
          });
          this.onItem(facts, c.description);
        }
        if (BigInt(batch.highWatermark) - 1n <= BigInt(batch.lastOffset())) this.caughtUp = true;
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
