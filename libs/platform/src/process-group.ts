import cluster, { type Worker } from 'node:cluster';
import { createServer, type Server } from 'node:http';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { HealthChecks } from './health';
import type { Logger } from './logger';

/**
 * One service as several processes on one machine (node:cluster): the workers share the
 * service's listening ports (the primary hands each new connection to one of them in turn),
 * so a service whose event loop is its limit can use more cores, as replicas on separate
 * machines would. The primary runs no service code: it starts the workers, replaces one that
 * dies, serves /metrics summed over them and /healthz for all of them, and on SIGTERM/SIGINT
 * stops them (each drains as a single process does) and exits 0 when all did.
 */

/** Set in a worker's environment: it runs the service without an HTTP server of its own. */
const PROCESS_GROUP_ENV = 'RECO_PROCESS_GROUP';

const HEALTH_REQ = 'reco:health?';
const HEALTH_RES = 'reco:health';
const READY = 'reco:ready';
/** How long /healthz waits for a worker's answer before counting it unhealthy. */
const HEALTH_TIMEOUT_MS = 2000;
/** A worker that dies is replaced after this (not at once: a crash loop would spin). */
const RESTART_DELAY_MS = 1000;

export interface ProcessGroupOptions {
  processes: number;
  logger: Logger;
  /** Where the primary serves /metrics and /healthz; none when undefined. */
  http?: { port: number; host: string };
}

export function inProcessGroupWorker(): boolean {
  return cluster.isWorker && process.env[PROCESS_GROUP_ENV] !== undefined;
}

/** Starts the workers (this file's caller's script, again) and supervises them. */
export function superviseProcessGroup(opts: ProcessGroupOptions): void {
  const { processes, logger } = opts;
  const workers = new Map<number, Worker>();
  const ready = new Set<number>();
  let stopping = false;
  let failed = false;
  const fork = (index: number) => {
    const w = cluster.fork({ [PROCESS_GROUP_ENV]: String(index) });
    workers.set(index, w);
    w.on('message', (m: { type?: string }) => {
      if (m?.type !== READY) return;
      ready.add(index);
      if (ready.size === processes) logger.info({ processes }, 'processes ready');
    });
    w.on('exit', (code, signal) => {
      workers.delete(index);
      ready.delete(index);
      if (stopping) {
        if (code !== 0) failed = true;
        if (workers.size === 0) process.exit(failed ? 1 : 0);
        return;
      }
      logger.error({ index, pid: w.process.pid, code, signal }, 'process exited; starting another');
      setTimeout(() => !stopping && fork(index), RESTART_DELAY_MS).unref();
    });
  };
  for (let i = 0; i < processes; i++) fork(i);
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal, processes: workers.size }, 'shutdown requested');
      if (workers.size === 0) process.exit(0);
      for (const w of workers.values()) w.process.kill('SIGTERM');
    });
  if (opts.http) serveGroupOps(opts.http, () => [...workers.values()], processes, logger);
}

/** /metrics summed over the workers (prom-client's cluster aggregation), /healthz of all of them. */
function serveGroupOps(
  at: { port: number; host: string },
  workers: () => Worker[],
  processes: number,
  logger: Logger,
): Server {
  const aggregator = new AggregatorRegistry();
  const server = createServer((req, res) => {
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method === 'GET' && req.url === '/metrics')
      return void aggregator.clusterMetrics().then(
        (text) => reply(200, aggregator.contentType, text),
        (err: unknown) => reply(500, 'text/plain', String(err)),
      );
    if (req.method === 'GET' && req.url === '/healthz')
      return void groupHealth(workers(), processes).then((h) =>
        reply(h.ok ? 200 : 503, 'application/json', JSON.stringify(h)),
      );
    reply(404, 'text/plain', 'not found');
  });
  server.listen(at.port, at.host, () => {
    const address = server.address();
    logger.info({ port: typeof address === 'object' && address ? address.port : at.port }, 'http listening');
  });
  return server;
}

async function groupHealth(workers: Worker[], processes: number) {
  const answers = await Promise.all(workers.map((w) => askHealth(w)));
  const ok = workers.length === processes && answers.every((a) => a.ok);
  return { ok, processes: answers };
}

let healthRequests = 0;

function askHealth(w: Worker): Promise<{ pid?: number; ok: boolean; checks?: Record<string, boolean> }> {
  const id = ++healthRequests;
  return new Promise((resolve) => {
    const pid = w.process.pid;
    const done = (r: { pid?: number; ok: boolean; checks?: Record<string, boolean> }) => {
      clearTimeout(timer);
      w.off('message', onMessage);
      resolve(r);
    };
    const onMessage = (m: { type?: string; id?: number; ok?: boolean; checks?: Record<string, boolean> }) => {
      if (m?.type === HEALTH_RES && m.id === id) done({ pid, ok: m.ok === true, checks: m.checks });
    };
    const timer = setTimeout(() => done({ pid, ok: false }), HEALTH_TIMEOUT_MS);
    w.on('message', onMessage);
    try {
      w.send({ type: HEALTH_REQ, id });
    } catch {
      done({ pid, ok: false });
    }
  });
}

/**
 * In a worker, once its service has started: its metrics go to the primary's /metrics, its
 * health checks answer the primary's /healthz, and the primary learns it is ready.
 */
export function joinProcessGroup(registry: Registry, health: HealthChecks): void {
  new AggregatorRegistry(); // in a worker, this adds prom-client's answer to the primary's requests
  AggregatorRegistry.setRegistries([registry]);
  process.on('message', (m: { type?: string; id?: number }) => {
    if (m?.type !== HEALTH_REQ) return;
    void health.run().then((h) => process.send?.({ type: HEALTH_RES, id: m.id, ...h }));
  });
  process.send?.({ type: READY });
}
