import { ItemHashIndex, categoryKey, hash32, itemHash } from '@reco/realtime';

/**
 * What serving needs to know about an item. Descriptions are not kept: only the lexical index
 * reads them, and on the serving thread they would only lengthen every major GC.
 */
export interface ItemFacts {
  itemId: string;
  title: string;
  brand: string;
  /** Root first. Shared by every item of the category: do not modify. */
  categoryPath: readonly string[];
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
  /** itemHash → slot in knownIds (every id ever seen: user state may still name removed items). */
  private readonly slotOfHash = new ItemHashIndex(1024);
  private readonly knownIds: string[] = [];
  /**
   * One path array and one key string per category and one string per brand, shared by their
   * items: decoded per item they were most of the catalog's heap (100,000 items: 88 MB).
   */
  private readonly categories = new Map<string, { path: readonly string[]; key: string }>();
  private readonly brands = new Map<string, string>();
  private changes = 0;
  private newest?: { atChange: number; limit: number; items: ItemFacts[] };

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
    const category = this.sharedCategory(item.categoryPath);
    let brand = this.brands.get(item.brand);
    if (brand === undefined) this.brands.set(item.brand, (brand = item.brand));
    const facts: ItemFacts = {
      itemId: item.itemId,
      title: item.title,
      brand,
      categoryPath: category.path,
      category: category.key,
      price: item.price,
      inStock: item.inStock,
      createdAt: item.createdAt,
    };
    this.items.set(item.itemId, facts);
    for (const p of prefixesOf(facts.categoryPath)) this.prefixes.set(p, (this.prefixes.get(p) ?? 0) + 1);
    if (facts.category) this.categoryByHash.set(hash32(facts.category), facts.category);
    const h = itemHash(item.itemId);
    if (this.slotOfHash.get(h) === undefined) {
      this.slotOfHash.set(h, this.knownIds.length);
      this.knownIds.push(item.itemId);
    }
    this.changes++;
    return facts;
  }

  private sharedCategory(path: readonly string[]): { path: readonly string[]; key: string } {
    // joined with a separator that cannot occur in a name, so distinct paths never share a key
    const id = path.join('\u0000');
    let shared = this.categories.get(id);
    if (!shared)
      this.categories.set(id, (shared = { path: Object.freeze([...path]), key: categoryKey(path) }));
    return shared;
  }

  remove(itemId: string): void {
    const old = this.items.get(itemId);
    if (!old) return;
    this.items.delete(itemId);
    this.changes++;
    for (const p of prefixesOf(old.categoryPath)) {
      const n = (this.prefixes.get(p) ?? 1) - 1;
      if (n <= 0) this.prefixes.delete(p);
      else this.prefixes.set(p, n);
    }
  }

  /**
   * The `limit` newest in-stock items, newest first: recomputed only after the catalog changed,
   * and by a bounded heap rather than a sort, because a full sort of a large catalog blocks the
   * event loop for tens of milliseconds (seen as p99 spikes under load).
   */
  newestInStock(limit: number): ItemFacts[] {
    if (this.newest?.atChange !== this.changes || this.newest.limit !== limit)
      this.newest = { atChange: this.changes, limit, items: newestFirst(this.items.values(), limit) };
    return this.newest.items;
  }

  isKnownCategory(prefix: string): boolean {
    return this.prefixes.has(normalizeCategory(prefix));
  }

  /** The item id of an itemHash (user state stores hashes). */
  idOfHash(hash: number): string | undefined {
    const slot = this.slotOfHash.get(hash);
    return slot === undefined ? undefined : this.knownIds[slot];
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

/** The `limit` in-stock items with the latest createdAt, newest first (ties: first seen first). */
export function newestFirst(items: Iterable<ItemFacts>, limit: number): ItemFacts[] {
  if (limit <= 0) return [];
  // min-heap on (createdAt, then later arrival) so the root is the item to evict
  const heap: { item: ItemFacts; seq: number }[] = [];
  const older = (a: { item: ItemFacts; seq: number }, b: { item: ItemFacts; seq: number }) =>
    a.item.createdAt < b.item.createdAt || (a.item.createdAt === b.item.createdAt && a.seq > b.seq);
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && older(heap[l], heap[m])) m = l;
      if (r < heap.length && older(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  let seq = 0;
  for (const item of items) {
    if (!item.inStock) continue;
    const entry = { item, seq: seq++ };
    if (heap.length < limit) {
      heap.push(entry);
      for (let i = heap.length - 1; i > 0;) {
        const parent = (i - 1) >> 1;
        if (!older(heap[i], heap[parent])) break;
        [heap[i], heap[parent]] = [heap[parent], heap[i]];
        i = parent;
      }
    } else if (older(heap[0], entry)) {
      heap[0] = entry;
      down(0);
    }
  }
  return heap.sort((a, b) => (older(a, b) ? 1 : older(b, a) ? -1 : 0)).map((e) => e.item);
}
