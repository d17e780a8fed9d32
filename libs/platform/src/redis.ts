import Redis from 'ioredis';
import type { Logger } from './logger';

export { Redis };

/** One Redis connection; errors are logged, and ioredis reconnects on its own. */
export function createRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableAutoPipelining: true, lazyConnect: true });
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  return redis;
}
