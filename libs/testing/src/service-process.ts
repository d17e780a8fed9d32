import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export type LogEntry = Record<string, unknown> & { msg?: string };

/** A service started as its own process for a test, with its JSON log lines at hand. */
export interface TestService {
  child: ChildProcess;
  exited: Promise<number | null>;
  logs: LogEntry[];
  /** Resolves with the first log entry (past or future) with this msg that matches. */
  waitFor(msg: string, match?: (e: LogEntry) => boolean, timeoutMs?: number): Promise<LogEntry>;
}

/**
 * The Node flags of a service's start script (`node <flags> dist/main.js` in
 * `<serviceDir>/package.json`), so that benchmarks and the demo run a service as it is deployed.
 */
export function serviceNodeFlags(serviceDir: string): string[] {
  const pkg = JSON.parse(readFileSync(join(serviceDir, 'package.json'), 'utf8')) as {
    scripts?: { start?: string };
  };
  const words = (pkg.scripts?.start ?? '').split(/\s+/);
  const node = words.indexOf('node');
  const main = words.findIndex((w) => w.endsWith('main.js'));
  if (node < 0 || main < node)
    throw new Error(`${serviceDir}: start script is not "node [flags] dist/main.js"`);
  return words.slice(node + 1, main);
}

/** Spawns `node <main>` with `env` added to this process's environment. */
export function spawnService(main: string, env: Record<string, string>): TestService {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const logs: LogEntry[] = [];
  const waiters: { msg: string; match?: (e: LogEntry) => boolean; resolve: (e: LogEntry) => void }[] = [];
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let entry: LogEntry;
    try {
      entry = JSON.parse(line) as LogEntry;
    } catch {
      return;
    }
    logs.push(entry);
    for (const w of waiters) if (w.msg === entry.msg && (!w.match || w.match(entry))) w.resolve(entry);
  });
  const waitFor = (msg: string, match?: (e: LogEntry) => boolean, timeoutMs = 90_000) =>
    new Promise<LogEntry>((resolve, reject) => {
      const hit = logs.find((e) => e.msg === msg && (!match || match(e)));
      if (hit) return resolve(hit);
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${main} did not log "${msg}" in ${timeoutMs} ms; its last log lines: ` +
                `${logs
                  .slice(-8)
                  .map((e) => JSON.stringify(e))
                  .join('\n')}; stderr: ${stderr}`,
            ),
          ),
        timeoutMs,
      );
      void exited.then((code) => {
        clearTimeout(timer); // an exited process must not keep the test alive until the timeout
        reject(new Error(`${main} exited with ${code}: ${stderr}`));
      });
      waiters.push({
        msg,
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  return { child, exited, logs, waitFor };
}

/**
 * SIGTERM (a service drains and leaves its group), SIGKILL after `graceMs`; resolves once the
 * process has exited. Benchmarks stop their services this way before deleting the run's topics:
 * a consumer still fetching would log their deletion as errors.
 */
export function stopProcess(child: ChildProcess, graceMs = 20_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
