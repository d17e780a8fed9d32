import 'reflect-metadata';
import type { DynamicModule, Provider } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Registry } from 'prom-client';
import { ConfigError } from './config';
import { HEALTH_CHECKS, HealthChecks, METRICS_REGISTRY } from './health';
import { NestPinoLogger, createLogger, type Logger } from './logger';
import { createMetricsRegistry } from './metrics';
import { inProcessGroupWorker, joinProcessGroup, superviseProcessGroup } from './process-group';

/** Injection token of the service's logger. */
export const LOGGER = Symbol('LOGGER');

/**
 * What every service module gets from runService: its logger, its metrics registry, and the
 * providers the ops endpoints (/healthz, /metrics) and lifecycles inject (LOGGER,
 * METRICS_REGISTRY, HEALTH_CHECKS).
 */
export interface ServiceOps {
  logger: Logger;
  registry: Registry;
  providers: Provider[];
}

export function serviceOps(name: string, logger: Logger): ServiceOps {
  const registry = createMetricsRegistry(name);
  return {
    logger,
    registry,
    providers: [
      { provide: LOGGER, useValue: logger },
      { provide: METRICS_REGISTRY, useValue: registry },
      { provide: HEALTH_CHECKS, useValue: new HealthChecks() },
    ],
  };
}

interface ServiceSettings {
  HTTP_PORT: number;
  HTTP_HOST: string;
  LOG_LEVEL: string;
}

/**
 * Starts a service: settings first (a bad or missing one exits 2 naming it), then the NestJS
 * module built from them, /healthz and /metrics on HTTP_PORT, and a graceful stop on
 * SIGTERM/SIGINT that exits 0 once every shutdown hook has run. Logs "http listening" with
 * the port it got. With `processesOf` above 1, this process supervises that many copies of
 * itself that share the service's ports and serves /healthz and /metrics for all of them.
 */
export function runService<C extends ServiceSettings>(
  name: string,
  loadConfig: () => C,
  moduleFor: (config: C, ops: ServiceOps) => DynamicModule,
  /** How many processes run the service on this machine (see process-group.ts); default 1. */
  processesOf?: (config: C) => number,
): void {
  let config: C;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(name, config.LOG_LEVEL);
  const processes = processesOf?.(config) ?? 1;
  if (processes > 1 && !inProcessGroupWorker())
    return superviseProcessGroup({
      processes,
      logger,
      http: { port: config.HTTP_PORT, host: config.HTTP_HOST },
    });
  const ops = serviceOps(name, logger);
  const start = async () => {
    const app = await NestFactory.create(moduleFor(config, ops), {
      logger: new NestPinoLogger(logger),
    });
    // Own signal handling rather than enableShutdownHooks: Nest re-raises the signal after
    // closing, so the process would not exit 0 after a clean drain.
    let closing = false;
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        if (closing) return;
        closing = true;
        logger.info({ signal }, 'shutdown requested');
        app.close().then(
          () => process.exit(0),
          (err) => {
            logger.error({ err: String(err) }, 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
    if (inProcessGroupWorker()) {
      // the group's primary serves /healthz and /metrics for all its processes
      await app.init();
      return joinProcessGroup(ops.registry, app.get<HealthChecks>(HEALTH_CHECKS));
    }
    await app.listen(config.HTTP_PORT, config.HTTP_HOST);
    const address = app.getHttpServer().address();
    logger.info(
      { port: typeof address === 'object' && address ? address.port : config.HTTP_PORT },
      'http listening',
    );
  };
  start().catch((err) => {
    logger.fatal({ err: err instanceof Error ? err.stack : String(err) }, `${name} failed to start`);
    process.exit(1);
  });
}
