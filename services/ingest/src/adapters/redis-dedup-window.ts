import type { Redis } from 'ioredis';
import { classifySighting, confirmedMark, type DedupWindow, type Sighting } from '../domain/dedup';

/**
 * The dedup window in Redis: one key per event id holding the position of its first
 * sighting, expiring after the window. `SET NX GET` claims and reads in one command.
 */
export class RedisDedupWindow implements DedupWindow {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly windowMs: number,
  ) {}

  async claim(claims: { eventId: string; position: string }[]): Promise<Sighting[]> {
    const pipeline = this.redis.pipeline();
    for (const c of claims)
      pipeline.set(this.keyPrefix + c.eventId, c.position, 'PX', this.windowMs, 'NX', 'GET');
    const results = (await pipeline.exec()) ?? [];
    return results.map(([err, previous], i) => {
      if (err) throw err;
      return classifySighting((previous as string | null) ?? null, claims[i]!.position);
    });
  }

  async confirm(claims: { eventId: string; position: string }[]): Promise<void> {
    if (claims.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const c of claims)
      pipeline.set(this.keyPrefix + c.eventId, confirmedMark(c.position), 'PX', this.windowMs, 'XX');
    await pipeline.exec();
  }
}
