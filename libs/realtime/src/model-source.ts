import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Consumer, Kafka } from 'kafkajs';
import { ModelPublished } from '@reco/contracts';

/** The local directory of a model artifact URI (file:// or a plain path). */
export function artifactDir(uri: string): string {
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) throw new Error(`unsupported artifact URI scheme: ${uri}`);
  return uri;
}

/**
 * Follows the model-published topic: every replica must see every message, so each process
 * reads it with a group of its own from the beginning, and only the newest message counts
 * (older ones are history). `onModel` runs for the newest version at start-up and for every
 * later one, one at a time.
 */
export class ModelWatcher {
  private consumer?: Consumer;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly groupPrefix: string,
    private readonly onModel: (m: ModelPublished) => Promise<void>,
    private readonly onError: (err: unknown, m: ModelPublished) => void,
    /** Older versions to load as well (e.g. versions an experiment arm pins). */
    private readonly keepFromHistory: (m: ModelPublished) => boolean = () => false,
    /** Told of the consumer before it runs, e.g. to watch its health. */
    private readonly onConsumer: (consumer: Consumer) => void = () => undefined,
  ) {}

  async start(): Promise<void> {
    this.consumer = this.kafka.consumer({
      groupId: `${this.groupPrefix}-${randomUUID()}`,
      readUncommitted: false,
    });
    this.onConsumer(this.consumer);
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachBatch: async ({ batch, resolveOffset }) => {
        // History: only the newest message the broker has counts, and pinned older versions.
        const newest = BigInt(batch.highWatermark) - 1n;
        for (const message of batch.messages) {
          resolveOffset(message.offset);
          if (!message.value) continue;
          const m = ModelPublished.decode(message.value);
          if (BigInt(message.offset) < newest && !this.keepFromHistory(m)) continue;
          try {
            await this.onModel(m);
          } catch (err) {
            this.onError(err, m);
          }
        }
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}
