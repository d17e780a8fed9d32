import { seededRandom } from '@reco/loadgen';
import type { Shop } from './catalog';

/** A simulated user: hidden tastes (a few categories) and where they are in their journey. */
export interface Shopper {
  id: string;
  /** Categories they like, most liked first. */
  tastes: string[];
  /** Items they have interacted with, oldest first. */
  journey: number[];
}

export interface ShopperStep {
  item: number;
  type: 'view' | 'click' | 'add_to_cart' | 'purchase';
}

/** A population whose tastes cover the catalog unevenly (some categories are more popular). */
export function generateShoppers(shop: Shop, count: number, seed: number): Shopper[] {
  const rand = seededRandom(seed);
  const weights = shop.categories.map((_, i) => 1 / (1 + i * 0.15));
  const total = weights.reduce((a, b) => a + b, 0);
  const pickCategory = () => {
    let r = rand() * total;
    for (let i = 0; i < weights.length; i++) if ((r -= weights[i]!) < 0) return shop.categories[i]!;
    return shop.categories[0]!;
  };
  return Array.from({ length: count }, (_, u) => {
    const tastes = new Set<string>();
    const n = 1 + Math.floor(rand() * 3);
    while (tastes.size < n) tastes.add(pickCategory());
    return { id: `shopper-${u}`, tastes: [...tastes], journey: [] };
  });
}

/**
 * The shopper's next step on their own: with probability 0.65 a follow-up of their last item
 * (the sequential habit), otherwise an item from one of their categories, popular ones first
 * (Zipf-like within the category).
 */
export function nextStep(shop: Shop, shopper: Shopper, rand: () => number): ShopperStep {
  const last = shopper.journey[shopper.journey.length - 1];
  let item: number;
  if (last !== undefined && rand() < 0.65) {
    const f = shop.followUps[last]!;
    item = f[Math.floor(rand() * f.length)]!;
  } else {
    const cat = shopper.tastes[Math.floor(rand() ** 1.5 * shopper.tastes.length)]!;
    const pool = shop.byCategory.get(cat)!;
    item = pool[Math.floor(rand() ** 3 * pool.length)]!;
  }
  const r = rand();
  const type = r < 0.6 ? 'view' : r < 0.85 ? 'click' : r < 0.95 ? 'add_to_cart' : 'purchase';
  shopper.journey.push(item);
  return { item, type };
}

/**
 * What a shopper does with a list of recommended items: looks from the top (attention falls
 * with position) and clicks the first one that appeals — more likely if it is a follow-up of
 * what they just looked at, or in a category they like. Returns the position clicked, or -1.
 */
export function reactToList(shop: Shop, shopper: Shopper, shown: number[], rand: () => number): number {
  const last = shopper.journey[shopper.journey.length - 1];
  const follow = last === undefined ? new Set<number>() : new Set(shop.followUps[last]);
  for (let pos = 0; pos < shown.length; pos++) {
    const item = shown[pos]!;
    const attention = 1 / (1 + 0.35 * pos);
    let appeal = 0.01;
    if (shopper.tastes.includes(shop.items[item]!.category)) appeal += 0.08;
    if (follow.has(item)) appeal += 0.3;
    if (rand() < attention * appeal) return pos;
  }
  return -1;
}

/** A seeded random source for a simulation run. */
export const simulationRandom = seededRandom;
