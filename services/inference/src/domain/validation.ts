import type { Filters, RecommendRequest, SearchRequest, SimilarItemsRequest } from '@reco/contracts';

/** A request field that is not acceptable; becomes INVALID_ARGUMENT naming `field`. */
export class ValidationError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'ValidationError';
  }
}

export interface RequestLimits {
  maxK: number;
  maxIdLength: number;
  maxQueryLength: number;
  maxFilterValues: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  maxK: 100,
  maxIdLength: 128,
  maxQueryLength: 256,
  maxFilterValues: 200,
};

function id(field: string, value: string, limits: RequestLimits, required: boolean): void {
  if (value === '') {
    if (required) throw new ValidationError(field, 'must not be empty');
    return;
  }
  if (value.length > limits.maxIdLength)
    throw new ValidationError(field, `longer than ${limits.maxIdLength} characters`);
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\u0000-\u001f]/.test(value)) throw new ValidationError(field, 'contains control characters');
}

function k(value: number, limits: RequestLimits): void {
  if (!Number.isInteger(value) || value <= 0) throw new ValidationError('k', 'must be at least 1');
  if (value > limits.maxK) throw new ValidationError('k', `must be at most ${limits.maxK}`);
}

/**
 * Filters: bounded lists, sane prices, and known categories (`isKnownCategory` answers for a
 * category prefix such as "Beauty/Skin Care"; an unknown one is an error, not an empty answer).
 */
export function validateFilters(
  f: Filters | undefined,
  limits: RequestLimits,
  isKnownCategory: (prefix: string) => boolean,
): void {
  if (!f) return;
  if (f.categories.length > limits.maxFilterValues)
    throw new ValidationError('filters.categories', `more than ${limits.maxFilterValues} values`);
  f.categories.forEach((c, i) => {
    const field = `filters.categories[${i}]`;
    if (c.trim() === '') throw new ValidationError(field, 'must not be empty');
    if (c.length > limits.maxIdLength * 4) throw new ValidationError(field, 'too long');
    if (!isKnownCategory(c)) throw new ValidationError(field, `unknown category "${c}"`);
  });
  for (const [name, v] of [
    ['filters.min_price', f.minPrice],
    ['filters.max_price', f.maxPrice],
  ] as const)
    if (!Number.isFinite(v) || v < 0) throw new ValidationError(name, 'must be a finite number ≥ 0');
  if (f.minPrice > 0 && f.maxPrice > 0 && f.minPrice > f.maxPrice)
    throw new ValidationError('filters.min_price', 'is above filters.max_price');
  if (f.excludeItemIds.length > limits.maxFilterValues)
    throw new ValidationError('filters.exclude_item_ids', `more than ${limits.maxFilterValues} values`);
  f.excludeItemIds.forEach((x, i) => id(`filters.exclude_item_ids[${i}]`, x, limits, true));
}

export function validateRecommend(
  r: RecommendRequest,
  limits: RequestLimits,
  isKnownCategory: (c: string) => boolean,
): void {
  id('user_id', r.userId, limits, true);
  k(r.k, limits);
  if (r.context) id('context.item_id', r.context.itemId, limits, false);
  validateFilters(r.filters, limits, isKnownCategory);
}

export function validateSimilar(
  r: SimilarItemsRequest,
  limits: RequestLimits,
  isKnownCategory: (c: string) => boolean,
): void {
  id('item_id', r.itemId, limits, true);
  k(r.k, limits);
  validateFilters(r.filters, limits, isKnownCategory);
}

export function validateSearch(
  r: SearchRequest,
  limits: RequestLimits,
  isKnownCategory: (c: string) => boolean,
): void {
  if (r.query.trim() === '') throw new ValidationError('query', 'must not be empty');
  if (r.query.length > limits.maxQueryLength)
    throw new ValidationError('query', `longer than ${limits.maxQueryLength} characters`);
  id('user_id', r.userId, limits, false);
  k(r.k, limits);
  validateFilters(r.filters, limits, isKnownCategory);
}
