import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ConfigError, NestPinoLogger, createLogger } from '@reco/platform';
import { loadIngestConfig } from './config';
import { IngestModule } from './app.module';

async function main() {
  let config;
  try {
    config = loadIngestConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger('ingest', config.LOG_LEVEL);
  const app = await NestFactory.create(IngestModule.forConfig(config), {
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
  await app.listen(config.HTTP_PORT, config.HTTP_HOST);
  const address = app.getHttpServer().address();
  logger.info(
    { port: typeof address === 'object' && address ? address.port : config.HTTP_PORT },
    'http listening',
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
