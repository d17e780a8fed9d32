/**
 * A service for process-group.test.ts, run as FIXTURE_PROCESSES processes: a TCP port
 * (FIXTURE_PORT) shared by the group answers each connection with the pid of the process that
 * took it, and fixture_started_total counts the processes started.
 */
import { createServer } from 'node:net';
import { Module, type OnApplicationShutdown } from '@nestjs/common';
import { Counter } from '../metrics';
import { HEALTH_CHECKS, HealthChecks, OpsController } from '../health';
import { runService, type ServiceOps } from '../bootstrap';

@Module({})
class FixtureModule {
  static forConfig(ops: ServiceOps) {
    const started = new Counter({
      name: 'fixture_started_total',
      help: 'processes started',
      registers: [ops.registry],
    });
    return {
      module: FixtureModule,
      controllers: [OpsController],
      providers: [
        ...ops.providers,
        {
          provide: 'PID_SERVER',
          inject: [HEALTH_CHECKS],
          useFactory: async (health: HealthChecks): Promise<OnApplicationShutdown> => {
            const server = createServer((socket) => socket.end(String(process.pid)));
            await new Promise<void>((resolve) =>
              server.listen(Number(process.env.FIXTURE_PORT), '127.0.0.1', resolve),
            );
            health.register('pid-server', () => server.listening);
            started.inc();
            return { onApplicationShutdown: () => new Promise<void>((r) => server.close(() => r())) };
          },
        },
      ],
    };
  }
}

runService(
  'fixture',
  () => ({ HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info' }),
  (_config, ops) => FixtureModule.forConfig(ops),
  () => Number(process.env.FIXTURE_PROCESSES ?? '1'),
);
