import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import { RankedItems, RecommenderService, reusingEncoder } from '@reco/contracts';
import type { Logger } from '@reco/platform';
import { dirname } from 'node:path';
import { ValidationError } from '../domain/validation';
import { DeadlineExceeded, type Recommender } from '../recommender';
import type { InferenceMetrics } from '../adapters/inference-metrics';

export const SERVICE_NAME = 'reco.v1.Recommender';

type Method = 'Recommend' | 'SimilarItems' | 'Search';

/**
 * The gRPC edge: reco.v1.Recommender, grpc.health.v1.Health and server reflection
 * (grpc.reflection.v1 / v1alpha, from the same .proto files the contracts are generated from).
 */
export class GrpcServer {
  private readonly server: grpc.Server;
  readonly health: HealthImplementation;
  private port = 0;

  constructor(
    private readonly recommender: Recommender,
    private readonly metrics: InferenceMetrics,
    private readonly logger: Logger,
    protoDir: string,
  ) {
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': 1024 * 1024,
      // channelz's per-call bookkeeping (counters, a listener per stream) serves only a
      // channelz service, which is not served here
      'grpc.enable_channelz': 0,
    });
    this.server.addService(this.timedService(), {
      recommend: this.unary('Recommend', (req, deadline) => this.recommender.recommend(req, deadline)),
      similarItems: this.unary('SimilarItems', (req, deadline) =>
        this.recommender.similarItems(req, deadline),
      ),
      search: this.unary('Search', (req, deadline) => this.recommender.search(req, deadline)),
    });
    this.health = new HealthImplementation({ '': 'NOT_SERVING', [SERVICE_NAME]: 'NOT_SERVING' });
    this.health.addToServer(this.server);
    // Reflection describes every service served here: health too, from grpc-health-check's own
    // .proto (its root is three levels above proto/health/v1/health.proto).
    const healthRoot = dirname(dirname(dirname(healthProtoPath)));
    const pkg = protoLoader.loadSync(['reco/v1/recommender.proto', 'health/v1/health.proto'], {
      includeDirs: [protoDir, healthRoot],
    });
    new ReflectionService(pkg).addToServer(this.server);
  }

  /**
   * The generated service definition, with responses written by one reused writer (the same
   * bytes as the generated serializer; see reusingEncoder) and their serialization timed.
   */
  private timedService(): typeof RecommenderService {
    const out = {} as Record<string, unknown>;
    const serialize = reusingEncoder(RankedItems);
    for (const [name, def] of Object.entries(RecommenderService)) {
      out[name] = {
        ...def,
        responseSerialize: (v: RankedItems) => {
          const t = process.hrtime.bigint();
          const b = serialize(v);
          this.metrics.stageSeconds.observe('serialize', Number(process.hrtime.bigint() - t) / 1e9);
          return b;
        },
      };
    }
    return out as typeof RecommenderService;
  }

  private unary<Req>(
    method: Method,
    handle: (req: Req, deadline: number | undefined) => Promise<RankedItems>,
  ) {
    return (call: grpc.ServerUnaryCall<Req, RankedItems>, callback: grpc.sendUnaryData<RankedItems>) => {
      const started = process.hrtime.bigint();
      const d = call.getDeadline();
      const deadlineMs = d instanceof Date ? d.getTime() : Number.isFinite(d) ? Number(d) : undefined;
      const done = (
        code: grpc.status,
        err: grpc.ServiceError | Partial<grpc.StatusObject> | null,
        value?: RankedItems,
      ) => {
        this.metrics.requests.inc({ method, code: grpc.status[code] });
        this.metrics.requestSeconds.observe(method, Number(process.hrtime.bigint() - started) / 1e9);
        callback(err, value);
      };
      handle(call.request, deadlineMs).then(
        (value) => done(grpc.status.OK, null, value),
        (err: unknown) => {
          if (err instanceof ValidationError)
            return done(grpc.status.INVALID_ARGUMENT, {
              code: grpc.status.INVALID_ARGUMENT,
              details: err.message,
            });
          if (err instanceof DeadlineExceeded)
            return done(grpc.status.DEADLINE_EXCEEDED, {
              code: grpc.status.DEADLINE_EXCEEDED,
              details: err.message,
            });
          this.logger.error(
            { method, err: err instanceof Error ? err.stack : String(err) },
            'request failed',
          );
          done(grpc.status.INTERNAL, { code: grpc.status.INTERNAL, details: 'internal error' });
        },
      );
    };
  }

  async listen(host: string, port: number): Promise<number> {
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    return this.port;
  }

  setServing(serving: boolean): void {
    const s = serving ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', s);
    this.health.setStatus(SERVICE_NAME, s);
  }

  /** Stops taking new calls and lets the ones in flight finish (forced after `graceMs`). */
  async stop(graceMs = 5000): Promise<void> {
    this.setServing(false);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
