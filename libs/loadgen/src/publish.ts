import type { Producer } from 'kafkajs';
import type { GeneratedMessage } from './clickstream';

export interface PublishOptions {
  /** Messages per second; 0 publishes as fast as the broker takes them. */
  rate: number;
  /** Messages per produce request. */
  chunk?: number;
  /**
   * Produce requests in flight at once when unthrottled. Above 1, requests may land out of
   * order, so one user's events may too: keep 1 where per-user order matters.
   */
  concurrency?: number;
  onProgress?: (sent: number) => void;
}

/**
 * Publishes messages to a topic at a fixed rate (open loop: it sleeps between chunks rather
 * than waiting for the consumer), or unthrottled with a few requests in flight.
 */
export async function publishMessages(
  producer: Producer,
  topic: string,
  messages: Iterable<GeneratedMessage>,
  options: PublishOptions,
): Promise<number> {
  const chunkSize = options.chunk ?? 500;
  const concurrency = options.rate > 0 ? 1 : (options.concurrency ?? 1);
  const started = Date.now();
  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  let chunk: GeneratedMessage[] = [];
  const flush = async (batch: GeneratedMessage[]) => {
    const p = producer
      .send({ topic, messages: batch.map((m) => ({ key: m.key, value: m.value, headers: m.headers })) })
      .then(() => {
        sent += batch.length;
        options.onProgress?.(sent);
      });
    inFlight.add(p);
    p.finally(() => inFlight.delete(p)).catch(() => undefined);
    if (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (options.rate > 0) {
      const due = started + ((sent + inFlight.size * chunkSize) / options.rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  };
  for (const m of messages) {
    chunk.push(m);
    if (chunk.length >= chunkSize) {
      await flush(chunk);
      chunk = [];
    }
  }
  if (chunk.length) await flush(chunk);
  await Promise.all(inFlight);
  return sent;
}
