import { popularityKeys } from '@reco/realtime';
import type Redis from 'ioredis';
import type { Logger } from '@reco/platform';

/**
 * Trending and 24 h popularity, copied from Redis every few seconds (the lists are small and
 * change slowly), so cold-start answers need no Redis call and survive a Redis outage.
 */
export class PopularityCache {
  trending: { itemId: string; score: number }[] = [];
  popular24h: { itemId: string; score: number }[] = [];
  private timer?: NodeJS.Timeout;
  private readonly keys: ReturnType<typeof popularityKeys>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly size: number,
    private readonly logger: Logger,
  ) {
    this.keys = popularityKeys(prefix);
  }

  start(periodMs: number): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), periodMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    try {
      const [t, p] = await Promise.all([
        this.redis.zrevrange(this.keys.trending, 0, this.size - 1, 'WITHSCORES'),
        this.redis.zrevrange(this.keys.window('w24h'), 0, this.size - 1, 'WITHSCORES'),
      ]);
      // unchanged lists keep their identity, so what is prepared from them is not rebuilt
      this.trending = sameOrNew(this.trending, pairs(t));
      this.popular24h = sameOrNew(this.popular24h, pairs(p));
    } catch (err) {
      this.logger.debug({ err: String(err) }, 'popularity refresh failed; keeping the last lists');
    }
  }
}

function pairs(flat: string[]): { itemId: string; score: number }[] {
  const out: { itemId: string; score: number }[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ itemId: flat[i], score: Number(flat[i + 1]) });
  return out;
}

type Ranked = { itemId: string; score: number }[];

export function sameOrNew(current: Ranked, next: Ranked): Ranked {
  const same =
    current.length === next.length &&
    current.every((x, i) => x.itemId === next[i]!.itemId && x.score === next[i]!.score);
  return same ? current : next;
}
