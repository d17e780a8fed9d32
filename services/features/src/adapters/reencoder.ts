import { userIdOfKey, userKeyPattern } from '@reco/realtime';
import type { Logger, Redis } from '@reco/platform';
import type { FeaturesMetrics } from './features-metrics';
import type { ModelHolder } from './model-holder';
import type { UserStore } from './user-store';

/**
 * After a model switch, re-encodes every stored user whose vector is from another version, at
 * a bounded rate, in the background. Until then a user's old vector stays valid for the old
 * version (inference keeps that version's index). Writes are compare-and-set: a user changed
 * by an event meanwhile was re-encoded by the event path and is skipped.
 */
export class Reencoder {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly store: UserStore,
    private readonly holder: ModelHolder,
    private readonly ratePerSecond: number,
    private readonly metrics: FeaturesMetrics,
    private readonly logger: Logger,
  ) {}

  async run(): Promise<number> {
    const generation = this.holder.generation;
    const tag = this.holder.tag;
    if (tag === undefined) return 0;
    const started = Date.now();
    let done = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', userKeyPattern(this.prefix), 'COUNT', 256);
      cursor = next;
      await Promise.all(
        keys.map(async (key) => {
          const userId = userIdOfKey(this.prefix, key);
          if (!userId) return;
          const { state, raw } = await this.store.read(userId);
          if (!raw || state.vector?.modelTag === tag || state.recent.length === 0) return;
          const vector = await this.holder.encode(state.recent.map((r) => r.item));
          if (!vector || vector.modelTag !== tag) return;
          if (await this.store.write(userId, raw, { ...state, vector })) {
            done++;
            this.metrics.reencoded.inc();
          }
        }),
      );
      // Bounded rate: sleep until the budget allows the users done so far.
      const ahead = (done / this.ratePerSecond) * 1000 - (Date.now() - started);
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    } while (cursor !== '0' && generation === this.holder.generation);
    this.logger.info(
      { users: done, ms: Date.now() - started, version: this.holder.version },
      're-encoding finished',
    );
    return done;
  }
}
