import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A service started as its own process, as ops would run it. */
export interface ServiceProcess {
  name: string;
  child: ChildProcess;
  /** The port of /healthz and /metrics it logged. */
  httpPort: number;
  stop(): Promise<number | null>;
}

/**
 * Starts `node <main>` with the given environment and waits for the JSON log line `readyMsg`.
 * Its log lines are passed to `onLog` (the demo keeps them out of the way).
 */
export async function startService(
  name: string,
  main: string,
  env: Record<string, string>,
  readyMsg: string,
  onLog: (line: string) => void = () => undefined,
  timeoutMs = 120_000,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let httpPort = 0;
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start in ${timeoutMs / 1000} s\n${stderr}`)),
      timeoutMs,
    );
    createInterface({ input: child.stdout! }).on('line', (line) => {
      onLog(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === 'http listening' && entry.port) httpPort = entry.port;
        if (entry.msg === readyMsg) {
          clearTimeout(timer);
          resolve();
        }
      } catch {
        // not a JSON log line
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with code ${code}\n${stderr}`));
    });
  });
  return {
    name,
    child,
    get httpPort() {
      return httpPort;
    },
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
