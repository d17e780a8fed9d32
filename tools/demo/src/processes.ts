import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { serviceNodeFlags } from '@reco/testing';

export type LogEntry = Record<string, unknown> & { msg?: string };

/**
 * A service running as its own detached process (as ops run it), logging JSON lines to a
 * file, with its pid in `<runDir>/pids/`. It outlives the demo, so the dashboard stays up;
 * `bash scripts/stop.sh` ends it.
 */
export class ServiceProcess {
  private offset = 0;
  private partial = '';
  readonly entries: LogEntry[] = [];

  private constructor(
    readonly name: string,
    readonly pid: number,
    readonly logFile: string,
    private readonly pidFile: string,
  ) {}

  static start(name: string, main: string, env: Record<string, string>, runDir: string): ServiceProcess {
    mkdirSync(join(runDir, 'pids'), { recursive: true });
    mkdirSync(join(runDir, 'logs'), { recursive: true });
    const logFile = join(runDir, 'logs', `${name}.log`);
    const fd = openSync(logFile, 'a');
    // with the flags of the service's start script (main is <service>/dist/main.js)
    const child = spawn(process.execPath, [...serviceNodeFlags(dirname(dirname(main))), main], {
      env: { ...process.env, ...env },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    child.unref();
    const pidFile = join(runDir, 'pids', `${name}.pid`);
    writeFileSync(pidFile, `${child.pid}\n`);
    return new ServiceProcess(name, child.pid!, logFile, pidFile);
  }

  get alive(): boolean {
    try {
      process.kill(this.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Reads the log lines written since the last call. */
  private poll(): void {
    const size = statSync(this.logFile).size;
    if (size <= this.offset) return;
    const buf = Buffer.alloc(size - this.offset);
    const fd = openSync(this.logFile, 'r');
    readSync(fd, buf, 0, buf.length, this.offset);
    closeSync(fd);
    this.offset = size;
    const lines = (this.partial + buf.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        this.entries.push(JSON.parse(line) as LogEntry);
      } catch {
        // not a JSON log line (a native library's message)
      }
    }
  }

  /** Waits for a log entry with this msg (and matching `match`), seen before or after the call. */
  async waitFor(
    msg: string,
    timeoutMs: number,
    match: (e: LogEntry) => boolean = () => true,
  ): Promise<LogEntry> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      this.poll();
      for (; seen < this.entries.length; seen++) {
        const e = this.entries[seen]!;
        if (e.msg === msg && match(e)) return e;
        if (e.level === 60 || e.msg === 'training run failed')
          throw new Error(`${this.name}: ${String(e.msg)} ${String(e.err ?? '')} (log: ${this.logFile})`);
      }
      if (!this.alive) throw new Error(`${this.name} exited; see ${this.logFile}:\n${this.tail()}`);
      if (Date.now() > deadline)
        throw new Error(`${this.name} did not log "${msg}" in ${timeoutMs / 1000} s; see ${this.logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  tail(lines = 15): string {
    return existsSync(this.logFile)
      ? readFileSync(this.logFile, 'utf8').trim().split('\n').slice(-lines).join('\n')
      : '';
  }

  /** SIGTERM, then waits for the process to end (graceful drain). */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (this.alive) process.kill(this.pid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (this.alive && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (this.alive) process.kill(this.pid, 'SIGKILL');
    if (existsSync(this.pidFile)) unlinkSync(this.pidFile);
  }
}
