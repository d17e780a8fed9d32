import type { CatalogItem } from '@reco/contracts';
import { seededRandom } from '@reco/loadgen';

/** The shop's departments, each with sub-categories and the nouns their titles use. */
const DEPARTMENTS: Record<string, Record<string, string[]>> = {
  Beauty: {
    'Skin Care': ['face cream', 'serum', 'cleanser', 'toner', 'eye cream'],
    Makeup: ['lipstick', 'mascara', 'foundation', 'eyeliner', 'blush'],
    Hair: ['shampoo', 'conditioner', 'hair oil', 'hair mask', 'styling gel'],
    Fragrance: ['eau de parfum', 'eau de toilette', 'body mist', 'cologne', 'perfume oil'],
  },
  Toys: {
    'Building Sets': ['brick set', 'construction kit', 'marble run', 'block tower', 'gear set'],
    Puzzles: ['jigsaw puzzle', 'brain teaser', '3d puzzle', 'puzzle mat', 'logic game'],
    Dolls: ['fashion doll', 'baby doll', 'doll house', 'doll stroller', 'doll outfit'],
    Outdoor: ['kite', 'water blaster', 'sand set', 'jump rope', 'frisbee'],
  },
  Electronics: {
    Audio: ['headphones', 'earbuds', 'speaker', 'soundbar', 'turntable'],
    Cameras: ['camera', 'lens', 'tripod', 'memory card', 'camera bag'],
    Phones: ['phone case', 'charger', 'power bank', 'screen protector', 'phone stand'],
    Computers: ['keyboard', 'mouse', 'monitor', 'laptop stand', 'usb hub'],
  },
  Home: {
    Kitchen: ['chef knife', 'frying pan', 'cutting board', 'kettle', 'coffee grinder'],
    Bedding: ['duvet', 'pillow', 'sheet set', 'blanket', 'mattress topper'],
    Decor: ['vase', 'candle', 'picture frame', 'wall clock', 'cushion'],
    Garden: ['garden hose', 'pruning shears', 'plant pot', 'watering can', 'seed kit'],
  },
  Sports: {
    Running: ['running shoes', 'running shorts', 'sports watch', 'water bottle', 'running jacket'],
    Yoga: ['yoga mat', 'yoga block', 'yoga strap', 'meditation cushion', 'yoga leggings'],
    Cycling: ['bike helmet', 'bike light', 'bike lock', 'cycling gloves', 'saddle bag'],
    Camping: ['tent', 'sleeping bag', 'camping stove', 'headlamp', 'camping chair'],
  },
};
const ADJECTIVES = [
  'classic',
  'premium',
  'compact',
  'organic',
  'deluxe',
  'eco',
  'pro',
  'mini',
  'ultra',
  'vintage',
  'smart',
  'soft',
];
const COLORS = ['black', 'white', 'red', 'blue', 'green', 'rose', 'grey', 'gold'];

export interface ShopItem extends CatalogItem {
  /** "Department/Sub-category": what the simulated users' tastes are about. */
  category: string;
}

export interface Shop {
  items: ShopItem[];
  categories: string[];
  /** For each item index, items people tend to want next (complements, the next step). */
  followUps: number[][];
  /** Index of items per category. */
  byCategory: Map<string, number[]>;
}

/**
 * A catalog of `size` items across 5 departments × 4 categories, with brands, prices, stock and
 * titles built from the category's vocabulary; and, for each item, a few follow-up items in the
 * same department that buyers tend to go to next (the sequential habit the model can learn).
 */
export function generateShop(size: number, seed: number, now = Date.now()): Shop {
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const items: ShopItem[] = [];
  const categories: string[] = [];
  for (const [dept, subs] of Object.entries(DEPARTMENTS))
    for (const sub of Object.keys(subs)) categories.push(`${dept}/${sub}`);
  const brands = new Map(
    Object.keys(DEPARTMENTS).map((d) => [
      d,
      Array.from({ length: 6 }, (_, i) => `${d.slice(0, 3)}${['ora', 'vex', 'lum', 'tek', 'sol', 'ivo'][i]}`),
    ]),
  );
  const byCategory = new Map<string, number[]>(categories.map((c) => [c, []]));
  for (let i = 0; i < size; i++) {
    const category = categories[i % categories.length]!;
    const [dept, sub] = category.split('/') as [string, string];
    const noun = pick(DEPARTMENTS[dept]![sub]!);
    const brand = pick(brands.get(dept)!);
    const basePrice = 5 + (categories.indexOf(category) % 7) * 12;
    const price = Math.round(basePrice * Math.exp(rand() * 1.5) * 100) / 100;
    const color = pick(COLORS);
    items.push({
      itemId: `sku-${String(i).padStart(5, '0')}`,
      title: `${pick(ADJECTIVES)} ${brand} ${noun} ${color}`,
      description: `A ${color} ${noun} by ${brand}, from our ${sub.toLowerCase()} range.`,
      categoryPath: [dept, sub],
      brand,
      price,
      currency: 'EUR',
      inStock: rand() > 0.05,
      createdAt: new Date(now - Math.floor(rand() * 365) * 86400_000),
      attributes: { color },
      updatedAt: new Date(now),
      category,
    });
    byCategory.get(category)!.push(i);
  }
  // Follow-ups: 3 items, mostly in the same category, sometimes in a sibling category of the
  // same department (a camera leads to a lens or a memory card).
  const followUps = items.map((item) => {
    const dept = item.categoryPath[0]!;
    const siblings = categories.filter((c) => c.startsWith(`${dept}/`));
    return Array.from({ length: 3 }, () => {
      const cat = rand() < 0.6 ? item.category : pick(siblings);
      return pick(byCategory.get(cat)!);
    });
  });
  return { items, categories, followUps, byCategory };
}
