import type { PopularityWindow } from '@reco/realtime';

export const FIVE_MINUTES = 300;
export const HOUR = 3600;

export const bucketOf = (atSeconds: number, size: number): number => Math.floor(atSeconds / size);

/**
 * The time buckets whose sum makes each sliding window at `nowSeconds`: the last hour from
 * twelve 5-minute buckets, 24 hours and 7 days from hourly buckets (the current, partial
 * bucket included, so a click counts at once).
 */
export function windowBuckets(
  nowSeconds: number,
): Record<PopularityWindow, { size: number; buckets: number[] }> {
  const range = (size: number, n: number) => {
    const cur = bucketOf(nowSeconds, size);
    return Array.from({ length: n }, (_, i) => cur - i);
  };
  return {
    w1h: { size: FIVE_MINUTES, buckets: range(FIVE_MINUTES, 12) },
    w24h: { size: HOUR, buckets: range(HOUR, 24) },
    w7d: { size: HOUR, buckets: range(HOUR, 168) },
  };
}

/**
 * Trending: how much hotter the last hour is than the item's average hour of the week, damped
 * so that one click on a cold item does not top the list, times log volume:
 * (c1h + 1) / (c7d / 168 + 1) * log1p(c1h). Zero without activity in the last hour.
 */
export function trendingScore(count1h: number, count7d: number): number {
  if (count1h <= 0) return 0;
  return ((count1h + 1) / (Math.max(count7d, count1h) / 168 + 1)) * Math.log1p(count1h);
}

/** Weighted counts per bucket key, summed over a batch of events (one Redis write per pair). */
export function aggregateIncrements(
  events: readonly { item: string; weight: number; at: number }[],
  keyOf: (size: number, bucket: number) => string,
): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  const add = (key: string, item: string, w: number) => {
    let m = out.get(key);
    if (!m) out.set(key, (m = new Map()));
    m.set(item, (m.get(item) ?? 0) + w);
  };
  for (const e of events) {
    add(keyOf(FIVE_MINUTES, bucketOf(e.at, FIVE_MINUTES)), e.item, e.weight);
    add(keyOf(HOUR, bucketOf(e.at, HOUR)), e.item, e.weight);
  }
  return out;
}
