import { categoryKey, hash32, itemHash } from '@reco/realtime';

/** What serving needs to know about an item. */
export interface ItemFacts {
  itemId: string;
  title: string;
  description: string;
  brand: string;
  /** Root first. */
  categoryPath: string[];
  /** "Beauty/Skin Care/Face". */
  category: string;
  price: number;
  inStock: boolean;
  /** Unix ms; 0 when unknown. */
  createdAt: number;
}

/** The catalog in memory (materialized from the compacted catalog topic). */
export class Catalog {
  private readonly items = new Map<string, ItemFacts>();
  /** Every category prefix ("Beauty", "Beauty/Skin Care", ...) -> number of items under it. */
  private readonly prefixes = new Map<string, number>();
  private readonly categoryByHash = new Map<number, string>();
  private readonly idByHash = new Map<number, string>();

  get size(): number {
    return this.items.size;
  }

  get(itemId: string): ItemFacts | undefined {
    return this.items.get(itemId);
  }

  all(): IterableIterator<ItemFacts> {
    return this.items.values();
  }

  upsert(item: Omit<ItemFacts, 'category'>): ItemFacts {
    this.remove(item.itemId);
    const facts: ItemFacts = { ...item, category: categoryKey(item.categoryPath) };
    this.items.set(item.itemId, facts);
    for (const p of prefixesOf(facts.categoryPath)) this.prefixes.set(p, (this.prefixes.get(p) ?? 0) + 1);
    if (facts.category) this.categoryByHash.set(hash32(facts.category), facts.category);
    this.idByHash.set(itemHash(item.itemId), item.itemId);
    return facts;
  }

  remove(itemId: string): void {
    const old = this.items.get(itemId);
    if (!old) return;
    this.items.delete(itemId);
    for (const p of prefixesOf(old.categoryPath)) {
      const n = (this.prefixes.get(p) ?? 1) - 1;
      if (n <= 0) this.prefixes.delete(p);
      else this.prefixes.set(p, n);
    }
  }

  isKnownCategory(prefix: string): boolean {
    return this.prefixes.has(normalizeCategory(prefix));
  }

  /** The item id of an itemHash (user state stores hashes). */
  idOfHash(hash: number): string | undefined {
    return this.idByHash.get(hash);
  }

  /** The category path string of a hash32(category) (user affinities store hashes). */
  categoryName(hash: number): string | undefined {
    return this.categoryByHash.get(hash);
  }
}

export function normalizeCategory(c: string): string {
  return c
    .split('/')
    .map((p) => p.trim())
    .filter(Boolean)
    .join('/');
}

function prefixesOf(path: readonly string[]): string[] {
  return path.map((_, i) => path.slice(0, i + 1).join('/'));
}

/** Whether `category` ("A/B/C") is under one of the filter prefixes ("A/B"). */
export function inCategories(category: string, prefixes: readonly string[]): boolean {
  if (prefixes.length === 0) return true;
  return prefixes.some((p) => {
    const n = normalizeCategory(p);
    return category === n || category.startsWith(`${n}/`);
  });
}

/** The last segment of a category path, for reasons ("popular in Face"). */
export const leafCategory = (category: string): string => category.slice(category.lastIndexOf('/') + 1);
