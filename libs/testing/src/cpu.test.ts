import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { basename } from 'node:path';
import { busyCores, machineTicks, processCpuSeconds, processName, threadCpuSeconds } from './cpu';

/** Spins this thread for `ms` of wall time. */
function spin(ms: number): void {
  const until = Date.now() + ms;
  let x = 0;
  while (Date.now() < until) x += Math.sqrt(x + 1);
  assert.ok(x > 0);
}

test("processCpuSeconds counts this process's CPU as it works", () => {
  const before = processCpuSeconds(process.pid);
  spin(300);
  const spent = processCpuSeconds(process.pid) - before;
  // 0.3 s of spinning: at least a third of it on a busy machine, and not more than all cores
  assert.ok(spent >= 0.1, `spent ${spent} s`);
  assert.ok(spent <= 0.3 * cpus().length + 0.05, `spent ${spent} s`);
});

test('threadCpuSeconds counts the calling thread, not a process total', () => {
  const before = threadCpuSeconds();
  spin(300);
  const spent = threadCpuSeconds() - before;
  // one thread spinning 0.3 s of wall time: at most 0.3 s of CPU (plus a tick), at least a third
  assert.ok(spent >= 0.1 && spent <= 0.31, `spent ${spent} s`);
});

test('processCpuSeconds and processName answer NaN and undefined for no process', () => {
  assert.ok(Number.isNaN(processCpuSeconds(undefined)));
  assert.ok(Number.isNaN(processCpuSeconds(2 ** 30)));
  assert.equal(processName(2 ** 30), undefined);
  // the kernel keeps a command name's first 15 bytes
  assert.equal(processName(process.pid), basename(process.execPath).slice(0, 15));
});

test('busyCores sees a spinning thread and stays within the machine', () => {
  const before = machineTicks();
  spin(500);
  const cores = busyCores(before);
  assert.ok(cores >= 0.3, `busy ${cores} cores`);
  assert.ok(cores <= cpus().length, `busy ${cores} cores`);
});
