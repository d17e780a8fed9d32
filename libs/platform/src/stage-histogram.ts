import type { Metric, Registry } from 'prom-client';

interface Series {
  /** Observations per bucket (not cumulative); the last slot is above every bound. */
  counts: Float64Array;
  sum: number;
  count: number;
}

interface ExportedValue {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}

export interface StageHistogramOptions {
  name: string;
  help: string;
  /** The one label (for example `stage` or `method`). */
  labelName: string;
  /** Upper bounds, increasing. */
  buckets: readonly number[];
  registers: Registry[];
}

/**
 * A Prometheus histogram with exactly one label, for code that observes several times per
 * request. prom-client's `Histogram.observe` builds a closure, validates the label object and
 * hashes it on every call (about 2 µs; six of them were 4% of inference's event loop per
 * request); here an observation is a Map lookup by the label's value, a bucket search and three
 * additions. It registers with prom-client's registries and exports exactly what a prom-client
 * Histogram with the same observations exports (text, JSON, and sums across a process group).
 */
export class StageHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  private readonly labelName: string;
  private readonly bounds: Float64Array;
  private series = new Map<string, Series>();

  constructor(opts: StageHistogramOptions) {
    this.name = opts.name;
    this.help = opts.help;
    this.labelName = opts.labelName;
    this.bounds = Float64Array.from(opts.buckets);
    for (const r of opts.registers) r.registerMetric(this as unknown as Metric);
  }

  observe(labelValue: string, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`${this.name}: value is not a valid number: ${value}`);
    let s = this.series.get(labelValue);
    if (!s) {
      s = { counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
      this.series.set(labelValue, s);
    }
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]) i++;
    s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  reset(): void {
    this.series = new Map();
  }

  /** What prom-client's Histogram.getForPromString gives (the registry's text export reads it). */
  async getForPromString() {
    const bucket = `${this.name}_bucket`;
    const values: ExportedValue[] = [];
    for (const [labelValue, s] of this.series) {
      const shared = { [this.labelName]: labelValue };
      const pair = (labels: ExportedValue['labels'], value: number, metricName: string, exemplar?: null) =>
        values.push({ labels, sharedLabels: shared, value, metricName, exemplar });
      let acc = 0;
      this.bounds.forEach((le, i) => pair({ le }, (acc += s.counts[i]), bucket, null));
      pair({ le: '+Inf' }, s.count, bucket, null);
      pair({}, s.sum, `${this.name}_sum`);
      pair({}, s.count, `${this.name}_count`);
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** What prom-client's Histogram.get gives (JSON export, and the process group's aggregation). */
  async get() {
    const data = await this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ sharedLabels, labels, ...rest }) => ({
        ...rest,
        labels: { ...labels, ...sharedLabels },
      })),
    };
  }
}
