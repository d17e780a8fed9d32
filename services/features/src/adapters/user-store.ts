import {
  CAS_SET_SCRIPT,
  decodeUserState,
  emptyUserState,
  encodeUserState,
  userKey,
  type UserState,
} from '@reco/realtime';
import type { Redis } from '@reco/platform';

type CasRedis = Redis & {
  recoCasSet(key: string, expected: Buffer | string, next: Buffer, ttlMs: number): Promise<number>;
};

export interface StoredState {
  state: UserState;
  /** The exact bytes read (the compare-and-set's expected value); empty when absent. */
  raw: Buffer | '';
}

/** Per-user state in Redis: read, and write only over what was read (compare-and-set). */
export class UserStore {
  private readonly redis: CasRedis;

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {
    if (!('recoCasSet' in redis)) redis.defineCommand('recoCasSet', { numberOfKeys: 1, lua: CAS_SET_SCRIPT });
    this.redis = redis as CasRedis;
  }

  key(userId: string): string {
    return userKey(this.prefix, userId);
  }

  async read(userId: string): Promise<StoredState> {
    const raw = await this.redis.getBuffer(this.key(userId));
    if (!raw) return { state: emptyUserState(), raw: '' };
    try {
      return { state: decodeUserState(raw), raw };
    } catch {
      return { state: emptyUserState(), raw }; // a foreign or corrupt value is replaced
    }
  }

  /** Writes `next` (TTL refreshed) if the key still holds `expected`; false on a concurrent change. */
  async write(userId: string, expected: Buffer | '', next: UserState): Promise<boolean> {
    return (await this.redis.recoCasSet(this.key(userId), expected, encodeUserState(next), this.ttlMs)) === 1;
  }
}
