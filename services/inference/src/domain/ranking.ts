import type { Filters } from '@reco/contracts';
import { inCategories, leafCategory, type ItemFacts } from './catalog';

export interface Candidate {
  itemId: string;
  score: number;
  /** Why it is a candidate; decides the reason unless a business rule overrides it. */
  reason: string;
}

export interface RankedResult {
  itemId: string;
  score: number;
  reason: string;
}

export interface RuleContext {
  filters: Filters | undefined;
  /** Item ids never to show (bought, just viewed, the page's own item). */
  exclude: ReadonlySet<string>;
  /** Max share of one category in the top k (0..1]; 1 = no cap. */
  maxCategoryShare: number;
  /** Items created after this (unix ms) are "new arrival". */
  newArrivalSince: number;
  facts: (itemId: string) => ItemFacts | undefined;
  /** Default true (recommendations); search passes false and keeps in_stock_only. */
  dropOutOfStock?: boolean;
}

/**
 * Whether an item passes the request's filters and the stock rule (recommendations never show
 * what cannot be bought; search shows it unless in_stock_only).
 */
export function passes(
  item: ItemFacts | undefined,
  filters: Filters | undefined,
  dropOutOfStock = true,
): boolean {
  if (!item) return false; // unknown to the catalog: cannot check stock, price or category
  if (!item.inStock && (dropOutOfStock || filters?.inStockOnly)) return false;
  if (!filters) return true;
  if (filters.minPrice > 0 && item.price < filters.minPrice) return false;
  if (filters.maxPrice > 0 && item.price > filters.maxPrice) return false;
  if (!inCategories(item.category, filters.categories)) return false;
  return true;
}

/**
 * Business rules, filters, diversity and reasons over scored candidates (any order):
 * best score first (ties in input order); drops excluded (bought, just viewed, filter
 * exclusions), out-of-stock and filtered items; at most ceil(share * k) items of one category
 * (relaxed only if the cap would leave the answer short); a reason on every item.
 */
export function finalize(candidates: readonly Candidate[], k: number, ctx: RuleContext): RankedResult[] {
  const sorted = candidates.slice().sort((a, b) => b.score - a.score);
  return finalizeBestFirst(sorted.length, (rank) => sorted[rank], k, ctx);
}

/**
 * `finalize` over candidates already best first, given by rank (`at(0)` is the best). Only the
 * candidates the answer reaches are asked for: a recommendation ranks a hundred and more
 * scored labels, and building a candidate object for each was a fifth of what a request
 * allocated.
 */
export function finalizeBestFirst(
  count: number,
  at: (rank: number) => Candidate,
  k: number,
  ctx: RuleContext,
): RankedResult[] {
  const excludeIds = ctx.filters?.excludeItemIds ?? [];
  let exclude = ctx.exclude;
  if (excludeIds.length) exclude = new Set([...ctx.exclude, ...excludeIds]);
  const cap = Math.max(1, Math.ceil(ctx.maxCategoryShare * k));
  const perCategory = new Map<string, number>();
  const out: RankedResult[] = [];
  const overflow: RankedResult[] = [];
  const seen = new Set<string>();
  for (let rank = 0; rank < count && out.length < k; rank++) {
    const c = at(rank);
    if (seen.has(c.itemId) || exclude.has(c.itemId)) continue;
    seen.add(c.itemId);
    const item = ctx.facts(c.itemId);
    if (!passes(item, ctx.filters, ctx.dropOutOfStock ?? true)) continue;
    const reason = item!.createdAt > ctx.newArrivalSince ? 'new arrival' : c.reason;
    const r = { itemId: c.itemId, score: c.score, reason };
    const n = perCategory.get(item!.category) ?? 0;
    if (n >= cap) {
      overflow.push(r);
      continue;
    }
    perCategory.set(item!.category, n + 1);
    out.push(r);
  }
  // Diversity yields to a full answer: fill from the capped items, best first.
  for (const r of overflow) {
    if (out.length >= k) break;
    out.push(r);
  }
  return out;
}

/**
 * Positions of `scores` best first, ties in position order (the order `finalize`'s stable sort
 * gives the same candidates), produced on demand: `at(rank)` for ranks read in increasing order.
 * A ranking reads about a dozen of its 130-odd scored candidates; a binary heap yields those
 * without sorting the rest (a comparator sort of all of them was two thirds of the rules
 * stage's CPU, 12.6 of 18.4 µs a request).
 */
export class BestFirst {
  readonly length: number;
  private readonly heap: Int32Array;
  private heapSize: number;
  private readonly order: Int32Array;
  private taken = 0;

  constructor(private readonly scores: ArrayLike<number>) {
    const n = scores.length;
    this.length = n;
    this.heap = new Int32Array(n);
    for (let i = 0; i < n; i++) this.heap[i] = i;
    this.heapSize = n;
    this.order = new Int32Array(n);
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /** The position of the candidate at `rank` (0 = best). */
  at(rank: number): number {
    if (rank >= this.length) throw new RangeError(`rank ${rank} of ${this.length}`);
    while (this.taken <= rank) {
      const heap = this.heap;
      this.order[this.taken++] = heap[0];
      heap[0] = heap[--this.heapSize];
      this.siftDown(0);
    }
    return this.order[rank];
  }

  /** Whether position a ranks before position b. */
  private before(a: number, b: number): boolean {
    const sa = this.scores[a];
    const sb = this.scores[b];
    return sa > sb || (!(sa < sb) && a < b);
  }

  private siftDown(from: number): void {
    const heap = this.heap;
    const size = this.heapSize;
    let i = from;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) return;
      const r = l + 1;
      const c = r < size && this.before(heap[r], heap[l]) ? r : l;
      if (!this.before(heap[c], heap[i])) return;
      const t = heap[i];
      heap[i] = heap[c];
      heap[c] = t;
      i = c;
    }
  }
}

/** All positions of `scores` best first, as BestFirst ranks them. */
export function bestFirstOrder(scores: ArrayLike<number>): Int32Array {
  const ranks = new BestFirst(scores);
  const order = new Int32Array(ranks.length);
  for (let r = 0; r < order.length; r++) order[r] = ranks.at(r);
  return order;
}

/** A popular item as a candidate, with its category (for the context boost). */
export interface PopularCandidate extends Candidate {
  category: string | undefined;
}

/**
 * The same candidates, best first, with the context item's category boosted by 1 (it ranks
 * popular items on an item page): a merge of the two already sorted halves, linear in the list.
 */
export function categoryFirst(
  candidates: readonly PopularCandidate[],
  category: string,
): readonly Candidate[] {
  const inCategory = candidates.filter((c) => c.category === category);
  if (inCategory.length === 0) return candidates;
  const others = candidates.filter((c) => c.category !== category);
  const out: Candidate[] = [];
  let i = 0;
  let j = 0;
  while (i < inCategory.length || j < others.length) {
    const a = inCategory[i];
    const b = others[j];
    if (a && (!b || a.score + 1 >= b.score)) {
      out.push({ ...a, score: a.score + 1 });
      i++;
    } else {
      out.push(b!);
      j++;
    }
  }
  return out;
}

export const popularReason = (item: ItemFacts | undefined): string =>
  item?.category ? `popular in ${leafCategory(item.category)}` : 'popular now';
export const similarReason = (title: string): string => `similar to ${title}`;
export const matchReason = (query: string): string => `matches ${query}`;

/** Min-max normalization to [0, 1] (all equal -> 1). */
export function normalize(values: readonly number[]): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return values.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 1));
}
