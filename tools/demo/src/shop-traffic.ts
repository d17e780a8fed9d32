import type { Producer } from 'kafkajs';
import { CONTENT_TYPE_JSON, CatalogItem } from '@reco/contracts';
import { publishMessages, type GeneratedMessage } from '@reco/loadgen';
import { reactToList, type RawEvent, type Shop, type Shopper } from '@reco/simulator';
import type { Stack } from './stack';

const json = (key: string, obj: unknown): GeneratedMessage => ({
  key,
  value: Buffer.from(JSON.stringify(obj)),
  headers: { 'content-type': CONTENT_TYPE_JSON },
  kind: 'valid',
});

/** The catalog feed: every item as a proto3 JSON upsert on the raw catalog topic. */
export async function publishCatalog(producer: Producer, topic: string, shop: Shop): Promise<void> {
  const messages = shop.items.map((item) => {
    const { category: _category, ...catalogItem } = item;
    return json(item.itemId, CatalogItem.toJSON(catalogItem));
  });
  await publishMessages(producer, topic, messages, { rate: 0, chunk: 1000 });
}

/** Past clickstream, as the storefront would have published it, keyed by user. */
export async function publishHistory(producer: Producer, topic: string, events: RawEvent[]): Promise<void> {
  await publishMessages(
    producer,
    topic,
    events.map((e) => json(e.key, e.json)),
    { rate: 0, chunk: 1000 },
  );
}

let liveEventCounter = 0;

/** What a storefront publishes when a shopper acts now. */
export function liveEvent(
  shopper: Shopper,
  shop: Shop,
  item: number,
  type: 'view' | 'click' | 'add_to_cart' | 'purchase',
) {
  const it = shop.items[item]!;
  return json(shopper.id, {
    event_id: `live-${process.pid}-${Date.now()}-${liveEventCounter++}`,
    type,
    user_id: shopper.id,
    session_id: `${shopper.id}-live`,
    item_id: it.itemId,
    ...(type === 'add_to_cart' || type === 'purchase' ? { quantity: 1, price: it.price } : {}),
    timestamp: new Date().toISOString(),
    context: { device: 'web', page: 'recommendations' },
  });
}

export interface TrafficResult {
  requests: number;
  clicks: number;
  errors: number;
  byArm: Map<string, { requests: number; clicks: number }>;
}

/**
 * Simulated shoppers use the storefront for `seconds`: each asks for recommendations, looks
 * at the list and maybe clicks (then sometimes adds to cart or buys); their clicks go to the
 * raw clickstream like any other event.
 */
export async function runTraffic(o: {
  stack: Stack;
  shop: Shop;
  shoppers: Shopper[];
  producer: Producer;
  topic: string;
  seconds: number;
  requestsPerSecond: number;
  rand: () => number;
}): Promise<TrafficResult> {
  const index = new Map(o.shop.items.map((it, i) => [it.itemId, i]));
  const result: TrafficResult = { requests: 0, clicks: 0, errors: 0, byArm: new Map() };
  const end = Date.now() + o.seconds * 1000;
  const pending: GeneratedMessage[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending.splice(0);
    await o.producer.send({
      topic: o.topic,
      messages: batch.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
    });
  };
  const tickMs = 1000 / o.requestsPerSecond;
  let next = Date.now();
  while (Date.now() < end) {
    const shopper = o.shoppers[Math.floor(o.rand() * o.shoppers.length)]!;
    try {
      const answer = await o.stack.recommend(shopper.id, 10);
      result.requests++;
      const arm = result.byArm.get(answer.experimentArm) ?? { requests: 0, clicks: 0 };
      result.byArm.set(answer.experimentArm, arm);
      arm.requests++;
      const shown = answer.items.map((i) => index.get(i.itemId)).filter((i): i is number => i !== undefined);
      const pos = reactToList(o.shop, shopper, shown, o.rand);
      if (pos >= 0) {
        const item = shown[pos]!;
        shopper.journey.push(item);
        pending.push(liveEvent(shopper, o.shop, item, 'click'));
        const r = o.rand();
        if (r < 0.2) pending.push(liveEvent(shopper, o.shop, item, r < 0.05 ? 'purchase' : 'add_to_cart'));
        result.clicks++;
        arm.clicks++;
      }
    } catch {
      result.errors++;
    }
    if (pending.length >= 20) await flush();
    next += tickMs;
    const wait = next - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await flush();
  return result;
}
