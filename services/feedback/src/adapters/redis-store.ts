import type { Redis } from '@reco/platform';
import type { Marks, UserState } from '../domain/attribution';
import {
  COUNTERS,
  addCounts,
  parseSeriesKey,
  zeroCounts,
  type Counts,
  type MetricIncrements,
} from '../domain/online-metrics';

export interface WindowTotals {
  /** Start of the first and the last bucket in the window (event time, ms). */
  start: number;
  end: number;
  perSeries: Map<string, Counts>;
  distinctPerSeries: Map<string, number>;
  perArm: Map<string, Counts>;
  distinctPerArm: Map<string, number>;
}

export interface TimeSeries {
  buckets: number[];
  /** series key → counts per bucket (aligned with buckets) */
  series: Map<string, Counts[]>;
}

/**
 * Everything feedback keeps in Redis (keys under REDIS_KEY_PREFIX + "feedback:"):
 * - `state:<partition>` hash user id → JSON UserState, `marks:<partition>` the watermarks: the
 *   attribution state of one partition (impressions and clean events are co-partitioned);
 * - `m:<bucket>` hash "<version>|<arm>|<counter>" → count, `shown:<bucket>:<version>|<arm>`
 *   HyperLogLog of items shown, `buckets` sorted set of bucket starts, `series` set of series
 *   keys: the online metrics, expiring after the retention;
 * - `catalog` HyperLogLog of catalog item ids (for coverage).
 * A partition's state and the metric increments of the same step are written in one
 * MULTI/EXEC, so metrics never count what the state does not remember.
 */
export class FeedbackStore {
  private readonly k: string;
  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly bucketMs: number,
    private readonly retentionMs: number,
  ) {
    this.k = `${prefix}feedback:`;
  }

  async loadPartition(partition: number): Promise<{ marks: Marks; users: [string, UserState][] }> {
    const [users, marks] = await Promise.all([
      this.redis.hgetall(`${this.k}state:${partition}`),
      this.redis.get(`${this.k}marks:${partition}`),
    ]);
    const m = marks
      ? (JSON.parse(marks) as { maxImpressionTime: number | null; maxEventTime: number | null })
      : null;
    return {
      marks: {
        maxImpressionTime: m?.maxImpressionTime ?? -Infinity,
        maxEventTime: m?.maxEventTime ?? -Infinity,
      },
      users: Object.entries(users).map(([u, json]) => [u, JSON.parse(json) as UserState]),
    };
  }

  async savePartition(
    partition: number,
    marks: Marks,
    dirty: Map<string, UserState | undefined>,
    increments: MetricIncrements,
  ): Promise<void> {
    const multi = this.redis.multi();
    const stateKey = `${this.k}state:${partition}`;
    const set: string[] = [];
    const del: string[] = [];
    for (const [user, state] of dirty) {
      if (state) set.push(user, JSON.stringify(state));
      else del.push(user);
    }
    if (set.length) multi.hset(stateKey, ...set);
    if (del.length) multi.hdel(stateKey, ...del);
    const finite = (n: number) => (Number.isFinite(n) ? n : null);
    multi.set(
      `${this.k}marks:${partition}`,
      JSON.stringify({
        maxImpressionTime: finite(marks.maxImpressionTime),
        maxEventTime: finite(marks.maxEventTime),
      }),
    );
    const ttlSeconds = Math.ceil(this.retentionMs / 1000);
    let newest = -Infinity;
    for (const [bucket, perSeries] of increments.counts) {
      const key = `${this.k}m:${bucket}`;
      for (const [series, counts] of perSeries) {
        multi.sadd(`${this.k}series`, series);
        for (const c of COUNTERS) {
          if (!counts[c]) continue;
          if (c === 'revenue') multi.hincrbyfloat(key, `${series}|${c}`, counts[c]);
          else multi.hincrby(key, `${series}|${c}`, counts[c]);
        }
      }
      multi.expire(key, ttlSeconds);
      multi.zadd(`${this.k}buckets`, bucket, String(bucket));
      newest = Math.max(newest, bucket);
    }
    for (const [bucket, perSeries] of increments.shown) {
      for (const [series, items] of perSeries) {
        const key = `${this.k}shown:${bucket}:${series}`;
        multi.pfadd(key, ...items);
        multi.expire(key, ttlSeconds);
      }
    }
    if (Number.isFinite(newest))
      multi.zremrangebyscore(`${this.k}buckets`, '-inf', `(${newest - this.retentionMs}`);
    const results = await multi.exec();
    const failed = results?.find(([err]) => err);
    if (!results || failed) throw failed?.[0] ?? new Error('redis transaction discarded');
  }

  async addCatalogItems(itemIds: string[]): Promise<void> {
    if (itemIds.length) await this.redis.pfadd(`${this.k}catalog`, ...itemIds);
  }

  catalogSize(): Promise<number> {
    return this.redis.pfcount(`${this.k}catalog`);
  }

  /** Newest bucket start with data (event time), or null when there is none. */
  async newestBucket(): Promise<number | null> {
    const newest = await this.redis.zrevrange(`${this.k}buckets`, 0, 0);
    return newest.length ? Number(newest[0]) : null;
  }

  private async bucketsIn(
    windowMs: number,
  ): Promise<{ start: number; end: number; buckets: number[] } | null> {
    const end = await this.newestBucket();
    if (end === null) return null;
    const start = end - windowMs + this.bucketMs;
    const buckets = (await this.redis.zrangebyscore(`${this.k}buckets`, start, end)).map(Number);
    return { start, end, buckets };
  }

  private async countsOf(buckets: number[]): Promise<Map<string, Counts>[]> {
    const pipeline = this.redis.pipeline();
    for (const b of buckets) pipeline.hgetall(`${this.k}m:${b}`);
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, hash]) => {
      const perSeries = new Map<string, Counts>();
      if (err || !hash) return perSeries;
      for (const [field, value] of Object.entries(hash as Record<string, string>)) {
        const at = field.lastIndexOf('|');
        const series = field.slice(0, at);
        const counter = field.slice(at + 1) as keyof Counts;
        const counts = perSeries.get(series) ?? zeroCounts();
        perSeries.set(series, counts);
        counts[counter] = Number(value);
      }
      return perSeries;
    });
  }

  /** Totals of the sliding window ending at the newest bucket, per series and per arm. */
  async windowTotals(windowMs: number): Promise<WindowTotals | null> {
    const range = await this.bucketsIn(windowMs);
    if (!range) return null;
    const perBucket = await this.countsOf(range.buckets);
    const perSeries = new Map<string, Counts>();
    const perArm = new Map<string, Counts>();
    for (const bucket of perBucket)
      for (const [series, counts] of bucket) {
        perSeries.set(series, addCounts(perSeries.get(series) ?? zeroCounts(), counts));
        const { arm } = parseSeriesKey(series);
        perArm.set(arm, addCounts(perArm.get(arm) ?? zeroCounts(), counts));
      }
    const shownKeys = (series: string[]) =>
      range.buckets.flatMap((b) => series.map((s) => `${this.k}shown:${b}:${s}`));
    const distinctPerSeries = new Map<string, number>();
    const distinctPerArm = new Map<string, number>();
    const arms = new Map<string, string[]>();
    for (const series of perSeries.keys()) {
      distinctPerSeries.set(series, await this.redis.pfcount(...shownKeys([series])));
      const { arm } = parseSeriesKey(series);
      arms.set(arm, [...(arms.get(arm) ?? []), series]);
    }
    for (const [arm, series] of arms) distinctPerArm.set(arm, await this.redis.pfcount(...shownKeys(series)));
    return { start: range.start, end: range.end, perSeries, distinctPerSeries, perArm, distinctPerArm };
  }

  /** Counts per bucket and series over the window (buckets without data are left out). */
  async timeSeries(windowMs: number): Promise<TimeSeries> {
    const range = await this.bucketsIn(windowMs);
    if (!range) return { buckets: [], series: new Map() };
    const perBucket = await this.countsOf(range.buckets);
    const series = new Map<string, Counts[]>();
    perBucket.forEach((bucket, i) => {
      for (const [key, counts] of bucket) {
        let row = series.get(key);
        if (!row) series.set(key, (row = range.buckets.map(() => zeroCounts())));
        row[i] = counts;
      }
    });
    return { buckets: range.buckets, series };
  }
}
