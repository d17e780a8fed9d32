import 'reflect-metadata';
import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigError } from './config';
import { NestPinoLogger, createLogger } from './logger';

interface ServiceSettings {
  HTTP_PORT: number;
  HTTP_HOST: string;
  LOG_LEVEL: string;
}

/**
 * Starts a service: settings first (a bad or missing one exits 2 naming it), then the NestJS
 * module built from them, /healthz and /metrics on HTTP_PORT, and a graceful stop on
 * SIGTERM/SIGINT that exits 0 once every shutdown hook has run. Logs "http listening" with
 * the port it got.
 */
export function runService<C extends ServiceSettings>(
  name: string,
  loadConfig: () => C,
  moduleFor: (config: C) => DynamicModule,
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
  const start = async () => {
    const app = await NestFactory.create(moduleFor(config), { logger: new NestPinoLogger(logger) });
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
