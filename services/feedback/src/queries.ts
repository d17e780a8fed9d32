import type { Experiment } from '@reco/experiments';
import type { FeedbackConfig } from './config';
import {
  compareArms,
  parseSeriesKey,
  rateSummary,
  zeroCounts,
  type ArmComparison,
  type RateSummary,
} from './domain/online-metrics';
import type { FeedbackStore } from './adapters/redis-store';
import type { ModelVersionInfo, ReferenceConsumer } from './adapters/reference-consumer';
import type { OpsScraper, ServiceOps } from './adapters/ops-scraper';

export interface MetricsView {
  experiment: Experiment;
  confidence: number;
  window: { minutes: number; start: number | null; end: number | null; bucketSeconds: number };
  catalogSize: number;
  series: (RateSummary & { modelVersion: string; arm: string })[];
  arms: (RateSummary & { arm: string; modelVersions: string[] })[];
  comparisons: ArmComparison[];
}

export interface TimeSeriesView {
  bucketSeconds: number;
  buckets: number[];
  series: {
    key: string;
    modelVersion: string;
    arm: string;
    impressions: number[];
    ctr: (number | null)[];
    addToCartRate: (number | null)[];
    conversion: (number | null)[];
  }[];
}

export interface DashboardView {
  generatedAt: number;
  metrics: MetricsView;
  timeseries: TimeSeriesView;
  models: ModelVersionInfo[];
  ops: ServiceOps[];
}

/** What the JSON API and the dashboard show, read from Redis and the reference consumers. */
export class FeedbackQueries {
  constructor(
    private readonly config: FeedbackConfig,
    private readonly store: FeedbackStore,
    private readonly reference: ReferenceConsumer,
    private readonly scraper: OpsScraper,
  ) {}

  windowMinutes(raw: unknown): number {
    const n = Number(raw);
    return Number.isFinite(n) && n > 0 ? Math.min(n, 90 * 24 * 60) : this.config.FEEDBACK_WINDOW_MINUTES;
  }

  async metrics(minutes: number): Promise<MetricsView> {
    const level = this.config.FEEDBACK_CONFIDENCE;
    const [totals, catalogSize] = await Promise.all([
      this.store.windowTotals(minutes * 60_000),
      this.store.catalogSize(),
    ]);
    const view: MetricsView = {
      experiment: this.config.experiment,
      confidence: level,
      window: {
        minutes,
        start: totals?.start ?? null,
        end: totals ? totals.end + this.config.FEEDBACK_BUCKET_SECONDS * 1000 : null,
        bucketSeconds: this.config.FEEDBACK_BUCKET_SECONDS,
      },
      catalogSize,
      series: [],
      arms: [],
      comparisons: [],
    };
    if (!totals) return view;
    for (const [key, counts] of [...totals.perSeries].sort(([a], [b]) => a.localeCompare(b)))
      view.series.push({
        ...parseSeriesKey(key),
        ...rateSummary(counts, totals.distinctPerSeries.get(key) ?? 0, catalogSize, level),
      });
    const armOrder = this.config.experiment.arms.map((a) => a.name);
    const arms = [...totals.perArm.keys()].sort(
      (a, b) => rank(armOrder, a) - rank(armOrder, b) || a.localeCompare(b),
    );
    for (const arm of arms)
      view.arms.push({
        arm,
        modelVersions: view.series.filter((s) => s.arm === arm).map((s) => s.modelVersion),
        ...rateSummary(
          totals.perArm.get(arm) ?? zeroCounts(),
          totals.distinctPerArm.get(arm) ?? 0,
          catalogSize,
          level,
        ),
      });
    view.comparisons = compareArms(totals.perArm, this.config.experiment.control, level);
    return view;
  }

  async timeseries(minutes: number): Promise<TimeSeriesView> {
    const ts = await this.store.timeSeries(minutes * 60_000);
    const rate = (s: number, n: number) => (n > 0 ? s / n : null);
    return {
      bucketSeconds: this.config.FEEDBACK_BUCKET_SECONDS,
      buckets: ts.buckets,
      series: [...ts.series]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, rows]) => ({
          key,
          ...parseSeriesKey(key),
          impressions: rows.map((c) => c.impressions),
          ctr: rows.map((c) => rate(c.clicked, c.impressions)),
          addToCartRate: rows.map((c) => rate(c.carted, c.impressions)),
          conversion: rows.map((c) => rate(c.purchased, c.impressions)),
        })),
    };
  }

  models(): ModelVersionInfo[] {
    return this.reference.modelVersions;
  }

  ops(): ServiceOps[] {
    return this.scraper.snapshot();
  }

  async dashboard(minutes: number): Promise<DashboardView> {
    const [metrics, timeseries] = await Promise.all([this.metrics(minutes), this.timeseries(minutes)]);
    return { generatedAt: Date.now(), metrics, timeseries, models: this.models(), ops: this.ops() };
  }
}

function rank(order: string[], arm: string): number {
  const i = order.indexOf(arm);
  return i === -1 ? order.length : i;
}
