import type { Kafka, KafkaMessage } from 'kafkajs';
import { CatalogItem, ClickstreamEvent, Outcome } from '@reco/contracts';
import { fetchTopicEnds } from '@reco/platform';
import type { LabeledOutcome } from '../domain/outcome-weights';
import type { ItemContent } from '@reco/model';
import type { Interaction } from '../domain/histories';

/** Where a replay stopped: the high watermark of each partition when it started. */
export type Watermark = Record<string, Record<number, string>>;

export interface ReplayOptions {
  /**
   * Stop at these offsets (by partition) instead of the current high watermarks: a resumed
   * run replays the data its interrupted run trained on.
   */
  upTo?: Record<number, string>;
  /** Ends the replay early (the caller must then not use what it got). */
  signal?: AbortSignal;
}

/**
 * Reads a topic from the beginning up to the high watermarks it has when the replay starts
 * (the log of record at that moment), with isolation read_committed. A partition is done at
 * its watermark, allowing for the transaction marker that may sit at the very end; a replay
 * also ends after `idleMs` without messages (only control records left).
 */
export async function replayTopic(
  kafka: Kafka,
  topic: string,
  onMessage: (message: KafkaMessage, partition: number) => void,
  options: { idleMs?: number; timeoutMs?: number } & ReplayOptions = {},
): Promise<Record<number, string>> {
  const { idleMs = 3000, timeoutMs = 30 * 60_000, upTo, signal } = options;
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await fetchTopicEnds(admin, topic);
  await admin.disconnect();
  const watermark: Record<number, string> = {};
  const pending = new Set<number>();
  for (const p of offsets) {
    const high = upTo ? (upTo[p.partition] ?? '0') : p.high;
    watermark[p.partition] = high;
    if (BigInt(high) > BigInt(p.low)) pending.add(p.partition);
  }
  if (pending.size === 0) return watermark;

  const consumer = kafka.consumer({
    groupId: `reco-trainer-replay-${topic}-${Date.now()}-${Math.random().toString(36).slice(2)}`,
    readUncommitted: false,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  let lastMessage = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const high = BigInt(watermark[batch.partition] ?? '0');
      for (const m of batch.messages) {
        if (BigInt(m.offset) >= high) break;
        onMessage(m, batch.partition);
      }
      lastMessage = Date.now();
      if (batch.messages.length && BigInt(batch.lastOffset()) + 2n >= high) pending.delete(batch.partition);
    },
  });
  const deadline = Date.now() + timeoutMs;
  try {
    while (
      pending.size > 0 &&
      !signal?.aborted &&
      Date.now() < deadline &&
      Date.now() - lastMessage < idleMs
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await consumer.disconnect();
  }
  return watermark;
}

/** Clean events as interactions, in log order. */
export async function replayInteractions(
  kafka: Kafka,
  topic: string,
  options: ReplayOptions = {},
): Promise<{ interactions: Interaction[]; watermark: Record<number, string> }> {
  const interactions: Interaction[] = [];
  const watermark = await replayTopic(
    kafka,
    topic,
    (m) => {
      if (!m.value) return;
      const e = ClickstreamEvent.decode(m.value);
      interactions.push({
        userId: e.userId,
        itemId: e.itemId,
        type: e.type,
        time: e.timestamp?.getTime() ?? 0,
      });
    },
    options,
  );
  return { interactions, watermark };
}

/** The latest version of every catalog item, as content features for the model. */
export async function replayCatalog(
  kafka: Kafka,
  topic: string,
  options: ReplayOptions = {},
): Promise<{ content: Map<string, ItemContent>; watermark: Record<number, string> }> {
  const content = new Map<string, ItemContent>();
  const watermark = await replayTopic(
    kafka,
    topic,
    (m) => {
      const id = m.key?.toString();
      if (!id) return;
      if (!m.value || m.value.length === 0) {
        content.delete(id); // tombstone: the item left the catalog
        return;
      }
      const item = CatalogItem.decode(m.value);
      content.set(item.itemId, {
        category: item.categoryPath,
        brand: item.brand || undefined,
        price: item.price || undefined,
        title: item.title,
      });
    },
    options,
  );
  return { content, watermark };
}

/** The feedback service's labeled outcomes (what users did with what they were shown). */
export async function replayOutcomes(
  kafka: Kafka,
  topic: string,
  options: ReplayOptions = {},
): Promise<{ outcomes: LabeledOutcome[]; watermark: Record<number, string> }> {
  const outcomes: LabeledOutcome[] = [];
  const watermark = await replayTopic(
    kafka,
    topic,
    (m) => {
      if (!m.value) return;
      const o = Outcome.decode(m.value);
      outcomes.push({ outcomeId: o.outcomeId, userId: o.userId, itemId: o.itemId, type: o.type });
    },
    options,
  );
  return { outcomes, watermark };
}

/** "topic:partition=offset,..." — the data a version was trained on. */
export function formatWatermark(w: Watermark): string {
  return Object.entries(w)
    .map(
      ([topic, parts]) =>
        `${topic}:` +
        Object.entries(parts)
          .map(([p, o]) => `${p}=${o}`)
          .join(','),
    )
    .join(';');
}
