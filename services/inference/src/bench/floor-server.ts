/**
 * The floor bench:serve compares Recommend against: a grpc-js Recommender whose handler does
 * one Redis GET (the user's key) and returns a constant list of k items. Env: REDIS_URL,
 * REDIS_KEY_PREFIX, FLOOR_PROCESSES (1: that many processes share the port, as inference's
 * INFERENCE_PROCESSES do, so the two are compared on the same footing); each process prints
 * {"port": n} once listening.
 */
import * as grpc from '@grpc/grpc-js';
import Redis from 'ioredis';
import { RecommenderService, type RankedItems, type RecommendRequest } from '@reco/contracts';
import { createLogger, inProcessGroupWorker, superviseProcessGroup } from '@reco/platform';
import { userKey } from '@reco/realtime';

const processes = Number(process.env.FLOOR_PROCESSES ?? '1');
if (processes > 1 && !inProcessGroupWorker())
  superviseProcessGroup({ processes, logger: createLogger('floor', 'warn') });
else serve();

function serve() {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { enableAutoPipelining: true });
  const prefix = process.env.REDIS_KEY_PREFIX ?? 'reco:';
  const items = Array.from({ length: 100 }, (_, i) => ({
    itemId: `item-${i}`,
    score: 1 - i / 100,
    reason: 'popular now',
  }));

  // the same transport settings as inference's server (no channelz bookkeeping)
  const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
  const constant = (k: number): RankedItems => ({
    requestId: 'floor',
    modelVersion: 'floor',
    experimentArm: '',
    items: items.slice(0, k),
    fallback: false,
  });
  server.addService(RecommenderService, {
    recommend: (
      call: grpc.ServerUnaryCall<RecommendRequest, RankedItems>,
      cb: grpc.sendUnaryData<RankedItems>,
    ) => {
      redis.getBuffer(userKey(prefix, call.request.userId)).then(
        () => cb(null, constant(call.request.k)),
        (err) => cb({ code: grpc.status.UNAVAILABLE, details: String(err) }),
      );
    },
    similarItems: (_c: unknown, cb: grpc.sendUnaryData<RankedItems>) => cb(null, constant(10)),
    search: (_c: unknown, cb: grpc.sendUnaryData<RankedItems>) => cb(null, constant(10)),
  });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    console.log(JSON.stringify({ port }));
  });
  process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
}
