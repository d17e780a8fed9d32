import { POPULARITY_WINDOWS, popularityKeys } from '@reco/realtime';
import type { Redis } from '@reco/platform';
import { FIVE_MINUTES, aggregateIncrements, trendingScore, windowBuckets } from '../domain/popularity';

const WEEK_SECONDS = 7 * 86400;

/** Item popularity in Redis: time buckets written per batch, windows and trending rebuilt periodically. */
export class PopularityStore {
  private readonly keys: ReturnType<typeof popularityKeys>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly trendingSize: number,
  ) {
    this.keys = popularityKeys(prefix);
  }

  async record(events: readonly { item: string; weight: number; at: number }[]): Promise<void> {
    if (events.length === 0) return;
    const increments = aggregateIncrements(events, (size, b) =>
      size === FIVE_MINUTES ? this.keys.bucket5m(b) : this.keys.bucket1h(b),
    );
    const pipe = this.redis.pipeline();
    for (const [key, items] of increments) {
      for (const [item, w] of items) pipe.zincrby(key, w, item);
      pipe.expire(key, key.includes(':5m:') ? 2 * 3600 : WEEK_SECONDS + 3600);
    }
    await pipe.exec();
  }

  /** Rebuilds the 1 h / 24 h / 7 d sums and the trending list. */
  async refresh(nowSeconds: number): Promise<void> {
    const windows = windowBuckets(nowSeconds);
    const pipe = this.redis.pipeline();
    for (const w of POPULARITY_WINDOWS) {
      const { size, buckets } = windows[w];
      const sources = buckets.map((b) =>
        size === FIVE_MINUTES ? this.keys.bucket5m(b) : this.keys.bucket1h(b),
      );
      pipe.zunionstore(this.keys.window(w), sources.length, ...sources);
    }
    await pipe.exec();
    const hot = await this.redis.zrevrange(
      this.keys.window('w1h'),
      0,
      this.trendingSize * 2 - 1,
      'WITHSCORES',
    );
    const items: string[] = [];
    const c1h: number[] = [];
    for (let i = 0; i < hot.length; i += 2) {
      items.push(hot[i]);
      c1h.push(Number(hot[i + 1]));
    }
    const c7d = items.length ? await this.redis.zmscore(this.keys.window('w7d'), ...items) : [];
    const scored = items
      .map((item, i) => ({ item, score: trendingScore(c1h[i], Number(c7d[i] ?? 0)) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, this.trendingSize);
    const tx = this.redis.multi().del(this.keys.trending);
    if (scored.length) tx.zadd(this.keys.trending, ...scored.flatMap((s) => [s.score, s.item]));
    await tx.exec();
  }
}
