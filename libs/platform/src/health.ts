import { Controller, Get, Header, HttpException, HttpStatus, Inject } from '@nestjs/common';
import type { Registry } from 'prom-client';

export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');

/** Named liveness checks a service registers; /healthz is 200 only when all pass. */
export class HealthChecks {
  private readonly checks = new Map<string, () => Promise<boolean> | boolean>();
  register(name: string, check: () => Promise<boolean> | boolean): void {
    this.checks.set(name, check);
  }
  async run(): Promise<{ ok: boolean; checks: Record<string, boolean> }> {
    const results: Record<string, boolean> = {};
    for (const [name, check] of this.checks) {
      try {
        results[name] = await check();
      } catch {
        results[name] = false;
      }
    }
    return { ok: Object.values(results).every(Boolean), checks: results };
  }
}

@Controller()
export class OpsController {
  constructor(
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(HEALTH_CHECKS) private readonly health: HealthChecks,
  ) {}

  @Get('healthz')
  async healthz() {
    const result = await this.health.run();
    if (!result.ok) throw new HttpException(result, HttpStatus.SERVICE_UNAVAILABLE);
    return result;
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  async metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
