import type { Shop } from './catalog';
import { nextStep, type Shopper } from './shoppers';
import { seededRandom } from '@reco/loadgen';

/** A raw clickstream event as a storefront would publish it (proto3 JSON). */
export interface RawEvent {
  key: string;
  json: Record<string, unknown>;
}

/**
 * Past behaviour of the population: each shopper takes `stepsPerShopper` steps (on average),
 * spread over the `spanMs` before `end`, users interleaved in time. Events in time order.
 */
export function simulateHistory(
  shop: Shop,
  shoppers: Shopper[],
  options: { stepsPerShopper: number; spanMs: number; end: number; seed: number },
): RawEvent[] {
  const rand = seededRandom(options.seed);
  const events: { time: number; key: string; json: Record<string, unknown> }[] = [];
  let n = 0;
  for (const shopper of shoppers) {
    const steps = Math.max(3, Math.round(options.stepsPerShopper * (0.5 + rand())));
    let time = options.end - options.spanMs * (0.3 + 0.7 * rand());
    const gap = (options.end - time) / (steps + 1);
    for (let s = 0; s < steps; s++) {
      time += gap * (0.5 + rand());
      const step = nextStep(shop, shopper, rand);
      const item = shop.items[step.item]!;
      events.push({
        time,
        key: shopper.id,
        json: {
          event_id: `hist-${options.seed}-${n++}`,
          type: step.type,
          user_id: shopper.id,
          session_id: `${shopper.id}-${Math.floor(time / 1_800_000)}`,
          item_id: item.itemId,
          ...(step.type === 'add_to_cart' || step.type === 'purchase'
            ? { quantity: 1, price: item.price }
            : {}),
          timestamp: new Date(Math.min(time, options.end)).toISOString(),
          context: { device: 'web', page: 'product' },
        },
      });
    }
  }
  events.sort((a, b) => a.time - b.time);
  return events.map(({ key, json }) => ({ key, json }));
}
