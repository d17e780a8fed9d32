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
 * Positions of `scores` best first, ties in position order: the order `finalize`'s stable sort
 * gives the same candidates, without an object per candidate.
 */
export function bestFirstOrder(scores: ArrayLike<number>): Int32Array {
  const order = new Int32Array(scores.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  // small integers only: a comparator returning a score difference boxes a number per call
  return order.sort((a, b) => (scores[a] > scores[b] ? -1 : scores[a] < scores[b] ? 1 : a - b));
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
