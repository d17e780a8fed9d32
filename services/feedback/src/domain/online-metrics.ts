import { differenceInterval, twoProportionTest, wilson, type Interval } from '@reco/experiments';
import type { Effect } from './attribution';

/**
 * Online metrics per (model version, experiment arm) in event-time buckets of the
 * impression's time: an outcome counts in the bucket of the impression it is attributed to,
 * so a bucket's rates are over its own impressions. Rates are per impression (an impression
 * is clicked when any of its items was clicked), which makes each rate a proportion with a
 * binomial interval.
 */
export const COUNTERS = [
  'impressions',
  /** impressions with at least one attributed click / add-to-cart / purchase */
  'clicked',
  'carted',
  'purchased',
  /** attributed events */
  'clicks',
  'addToCarts',
  'purchases',
  /** attributed purchase revenue */
  'revenue',
] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counts = Record<Counter, number>;

export const zeroCounts = (): Counts => Object.fromEntries(COUNTERS.map((c) => [c, 0])) as Counts;

/** "<model version>|<arm>"; both are plain names ('|' would be replaced). */
export function seriesKey(modelVersion: string, arm: string): string {
  const clean = (s: string) => (s || '(none)').replace(/\|/g, '_');
  return `${clean(modelVersion)}|${clean(arm)}`;
}

export function parseSeriesKey(key: string): { modelVersion: string; arm: string } {
  const at = key.indexOf('|');
  return { modelVersion: key.slice(0, at), arm: key.slice(at + 1) };
}

export interface MetricIncrements {
  /** bucket start (ms) → series key → counter increments */
  counts: Map<number, Map<string, Counts>>;
  /** bucket start (ms) → series key → item ids shown (for catalog coverage) */
  shown: Map<number, Map<string, Set<string>>>;
}

export function bucketOf(time: number, bucketMs: number): number {
  return Math.floor(time / bucketMs) * bucketMs;
}

/** Folds a step's effects into metric increments. */
export function incrementsFrom(effects: Effect[], bucketMs: number): MetricIncrements {
  const out: MetricIncrements = { counts: new Map(), shown: new Map() };
  const countsFor = (time: number, key: string): Counts => {
    const bucket = bucketOf(time, bucketMs);
    let perSeries = out.counts.get(bucket);
    if (!perSeries) out.counts.set(bucket, (perSeries = new Map()));
    let c = perSeries.get(key);
    if (!c) perSeries.set(key, (c = zeroCounts()));
    return c;
  };
  for (const e of effects) {
    if (e.type === 'impression') {
      const key = seriesKey(e.impression.modelVersion, e.impression.arm);
      countsFor(e.impression.time, key).impressions++;
      const bucket = bucketOf(e.impression.time, bucketMs);
      let perSeries = out.shown.get(bucket);
      if (!perSeries) out.shown.set(bucket, (perSeries = new Map()));
      let items = perSeries.get(key);
      if (!items) perSeries.set(key, (items = new Set()));
      for (const i of e.impression.items) items.add(i.itemId);
    } else if (e.type === 'outcome') {
      const c = countsFor(e.impression.time, seriesKey(e.impression.modelVersion, e.impression.arm));
      if (e.kind === 'click') {
        c.clicks++;
        if (e.firstForImpression) c.clicked++;
      } else if (e.kind === 'add_to_cart') {
        c.addToCarts++;
        if (e.firstForImpression) c.carted++;
      } else {
        c.purchases++;
        if (e.firstForImpression) c.purchased++;
        c.revenue += e.event.revenue;
      }
    }
  }
  return out;
}

export function addCounts(a: Counts, b: Counts): Counts {
  const out = zeroCounts();
  for (const c of COUNTERS) out[c] = a[c] + b[c];
  return out;
}

export interface RateSummary {
  impressions: number;
  counts: Counts;
  ctr: Interval;
  addToCartRate: Interval;
  conversion: Interval;
  /** Attributed revenue per 1,000 impressions. */
  revenuePerMille: number;
  /** Distinct items shown in the window. */
  distinctItems: number;
  /** distinctItems / catalog size; null while the catalog size is unknown. */
  coverage: number | null;
}

export function rateSummary(
  counts: Counts,
  distinctItems: number,
  catalogSize: number,
  level: number,
): RateSummary {
  const n = counts.impressions;
  return {
    impressions: n,
    counts,
    ctr: wilson(counts.clicked, n, level),
    addToCartRate: wilson(counts.carted, n, level),
    conversion: wilson(counts.purchased, n, level),
    revenuePerMille: n > 0 ? (1000 * counts.revenue) / n : 0,
    distinctItems,
    coverage: catalogSize > 0 ? Math.min(1, distinctItems / catalogSize) : null,
  };
}

export const RATE_METRICS = [
  { name: 'ctr', successes: 'clicked' },
  { name: 'addToCartRate', successes: 'carted' },
  { name: 'conversion', successes: 'purchased' },
] as const;

export interface ArmComparison {
  arm: string;
  control: string;
  metric: (typeof RATE_METRICS)[number]['name'];
  /** arm rate − control rate, with its interval (Newcombe's hybrid score). */
  difference: Interval;
  /** difference / control rate; null when the control rate is 0. */
  relativeLift: number | null;
  pValue: number;
  /** The interval excludes 0. */
  significant: boolean;
}

/** Every arm against the control arm, for each rate. */
export function compareArms(arms: Map<string, Counts>, control: string, level: number): ArmComparison[] {
  const base = arms.get(control);
  if (!base) return [];
  const out: ArmComparison[] = [];
  for (const [arm, counts] of arms) {
    if (arm === control) continue;
    for (const m of RATE_METRICS) {
      const difference = differenceInterval(
        base[m.successes],
        base.impressions,
        counts[m.successes],
        counts.impressions,
        level,
      );
      const controlRate = base.impressions ? base[m.successes] / base.impressions : 0;
      out.push({
        arm,
        control,
        metric: m.name,
        difference,
        relativeLift: controlRate > 0 ? difference.estimate / controlRate : null,
        pValue: twoProportionTest(
          base[m.successes],
          base.impressions,
          counts[m.successes],
          counts.impressions,
        ).pValue,
        significant: difference.low > 0 || difference.high < 0,
      });
    }
  }
  return out;
}
