import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const FIXTURE = join(__dirname, 'testing', 'process-group-fixture.js');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The pid of the process that took a connection to the group's shared port. */
function pidBehind(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    connect(port, '127.0.0.1')
      .on('data', (d) => (text += d))
      .on('end', () => resolve(Number(text)))
      .on('error', reject);
  });
}

test('a process group shares its port among its processes, sums their metrics, answers health for all, replaces one that dies and stops on SIGTERM', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, FIXTURE_PROCESSES: '2', FIXTURE_PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    logs.push(JSON.parse(line) as Record<string, unknown>);
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** Resolves once `count` log lines with message `msg` have been printed. */
  const logged = async (msg: string, count = 1) => {
    const deadline = Date.now() + 30_000;
    while (logs.filter((e) => e.msg === msg).length < count) {
      assert.ok(Date.now() < deadline, `no ${count} x "${msg}" in ${JSON.stringify(logs)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 500);
      });
    }
    return logs.filter((e) => e.msg === msg)[count - 1]!;
  };
  try {
    await logged('processes ready');
    const http = Number((await logged('http listening')).port);

    const pids = new Set<number>();
    for (let i = 0; i < 8; i++) pids.add(await pidBehind(port));
    assert.equal(pids.size, 2, 'connections go to both processes');
    assert.ok(!pids.has(child.pid!), 'the primary serves none itself');

    const metrics = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    assert.match(metrics, /^fixture_started_total\{service="fixture"\} 2$/m);
    const health = await fetch(`http://127.0.0.1:${http}/healthz`);
    assert.equal(health.status, 200);
    const body = (await health.json()) as { ok: boolean; processes: { pid: number; ok: boolean }[] };
    assert.deepEqual(new Set(body.processes.map((p) => p.pid)), pids);
    assert.ok(body.processes.every((p) => p.ok));

    const [victim, survivor] = [...pids];
    process.kill(victim!, 'SIGKILL');
    await logged('process exited; starting another');
    await logged('processes ready', 2);
    const after = new Set<number>();
    for (let i = 0; i < 8; i++) after.add(await pidBehind(port));
    assert.equal(after.size, 2);
    assert.ok(after.has(survivor!) && !after.has(victim!), 'the dead process was replaced');
    assert.equal((await fetch(`http://127.0.0.1:${http}/healthz`)).status, 200);

    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'every process drained and the group exited 0');
    for (const pid of after)
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `process ${pid} is gone`);
  } finally {
    child.kill('SIGKILL');
  }
});
