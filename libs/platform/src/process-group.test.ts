import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { spawnService } from '@reco/testing';

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
  const group = spawnService(FIXTURE, { FIXTURE_PROCESSES: '2', FIXTURE_PORT: String(port) });
  try {
    const ready = await group.waitFor('processes ready');
    const http = Number((await group.waitFor('http listening')).port);

    const pids = new Set<number>();
    for (let i = 0; i < 8; i++) pids.add(await pidBehind(port));
    assert.equal(pids.size, 2, 'connections go to both processes');
    assert.ok(!pids.has(group.child.pid!), 'the primary serves none itself');

    const metrics = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    assert.match(metrics, /^fixture_started_total\{service="fixture"\} 2$/m);
    const health = await fetch(`http://127.0.0.1:${http}/healthz`);
    assert.equal(health.status, 200);
    const body = (await health.json()) as { ok: boolean; processes: { pid: number; ok: boolean }[] };
    assert.deepEqual(new Set(body.processes.map((p) => p.pid)), pids);
    assert.ok(body.processes.every((p) => p.ok));

    const [victim, survivor] = [...pids];
    process.kill(victim!, 'SIGKILL');
    await group.waitFor('process exited; starting another');
    await group.waitFor('processes ready', (e) => e !== ready);
    const after = new Set<number>();
    for (let i = 0; i < 8; i++) after.add(await pidBehind(port));
    assert.equal(after.size, 2);
    assert.ok(after.has(survivor!) && !after.has(victim!), 'the dead process was replaced');
    assert.equal((await fetch(`http://127.0.0.1:${http}/healthz`)).status, 200);

    group.child.kill('SIGTERM');
    assert.equal(await group.exited, 0, 'every process drained and the group exited 0');
    for (const pid of after)
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `process ${pid} is gone`);
  } finally {
    group.child.kill('SIGKILL');
  }
});
