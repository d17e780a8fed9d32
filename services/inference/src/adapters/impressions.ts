import type { Producer } from 'kafkajs';
import { Impression, recordHeaders, reusingEncoder } from '@reco/contracts';
import type { Logger } from '@reco/platform';
import type { InferenceMetrics } from './inference-metrics';

/**
 * Impressions go to Kafka in the background: `publish` only queues (never awaits), a timer
 * flushes the queue as one batch; when Kafka is slow or away the queue is bounded and the
 * overflow is dropped and counted, so a response is never delayed.
 */
export class ImpressionPublisher {
  private queue: { key: string; value: Buffer; headers: Readonly<Record<string, string>> }[] = [];
  private timer?: NodeJS.Timeout;
  private sending = false;
  private readonly encode = reusingEncoder(Impression);
  private readonly headers = recordHeaders('impressions');

  constructor(
    private readonly producer: Producer,
    private readonly topic: string,
    private readonly maxQueue: number,
    private readonly metrics: InferenceMetrics,
    private readonly logger: Logger,
  ) {}

  start(flushMs: number): void {
    this.timer = setInterval(() => void this.flush(), flushMs);
  }

  publish(impression: Impression): void {
    if (this.queue.length >= this.maxQueue) {
      this.metrics.impressions.inc({ outcome: 'dropped' });
      return;
    }
    this.queue.push({ key: impression.userId, value: this.encode(impression), headers: this.headers });
  }

  async flush(): Promise<void> {
    if (this.sending || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.sending = true;
    try {
      await this.producer.send({ topic: this.topic, messages: batch });
      this.metrics.impressions.inc({ outcome: 'sent' }, batch.length);
    } catch (err) {
      this.metrics.impressions.inc({ outcome: 'failed' }, batch.length);
      this.logger.warn({ err: String(err), lost: batch.length }, 'impressions not published');
    } finally {
      this.sending = false;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
