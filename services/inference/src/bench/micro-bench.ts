/**
 * pnpm bench:micro — the per-request costs behind inference's design, measured on this machine:
 * - waking threads: a 2 ms timer waking an idle event loop, a postMessage round trip to a
 *   worker (with 2 ms idle gaps and back to back), an Atomics wait/notify round trip;
 * - a search of the ANN index on its thread (ThreadSearcher), 2 ms apart: the calling
 *   thread's own CPU per search (what the serving event loop pays for it);
 * - scoring 130 scattered candidates of a 100,000 × 64 table: the served scorer against one
 *   row at a time (the plain loop it replaced);
 * - encoding a 10-item answer and its impression: the generated encoders (a new writer each)
 *   against reusingEncoder.
 * Prints one JSON line per measurement. Not a test: it asserts nothing.
 */
import { Worker } from 'node:worker_threads';
import { ClusteredVectors, buildSearcher } from '@reco/ann';
import { Impression, RankedItems, Surface, reusingEncoder } from '@reco/contracts';
import { ServedScorer } from '@reco/model';
import { threadCpuSeconds } from '@reco/testing';

const print = (name: string, value: number, unit: string) =>
  console.log(JSON.stringify({ name, value: Math.round(value * 10) / 10, unit }));

/** Process CPU (all threads) per call of `round`, run `n` times one after another. */
async function cpuPerRound(n: number, round: () => Promise<void>): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) await round();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// The echo worker: answers each message with three small typed arrays, as the ANN thread does.
const ECHO = `
const { parentPort, workerData } = require('node:worker_threads');
const flag = new Int32Array(workerData);
if (flag.length > 0) {
  for (;;) {
    Atomics.wait(flag, 0, 0);
    if (Atomics.load(flag, 1) === 1) break;
    Atomics.store(flag, 0, 0);
    Atomics.notify(flag, 0);
  }
} else {
  parentPort.on('message', () => {
    const r = { counts: new Int32Array(1), labels: new Int32Array(100), scores: new Float32Array(100) };
    parentPort.postMessage(r, [r.counts.buffer, r.labels.buffer, r.scores.buffer]);
  });
}`;

async function wakeUps(): Promise<void> {
  print(
    'timer wake of an idle event loop (every 2 ms), CPU per wake',
    await cpuPerRound(2000, () => sleep(2)),
    'µs',
  );
  const worker = new Worker(ECHO, { eval: true, workerData: new SharedArrayBuffer(0) });
  const roundTrip = () =>
    new Promise<void>((resolve) => {
      worker.once('message', () => resolve());
      worker.postMessage({ queries: new Float32Array(64) });
    });
  await cpuPerRound(200, roundTrip); // warm-up
  print(
    'postMessage round trip, 2 ms idle between, CPU (both threads) per round trip minus the timer',
    (await cpuPerRound(2000, async () => {
      await roundTrip();
      await sleep(2);
    })) - (await cpuPerRound(2000, () => sleep(2))),
    'µs',
  );
  print('postMessage round trip, back to back, CPU (both threads)', await cpuPerRound(5000, roundTrip), 'µs');
  await worker.terminate();

  const shared = new SharedArrayBuffer(8);
  const flag = new Int32Array(shared);
  const futex = new Worker(ECHO, { eval: true, workerData: shared });
  await sleep(100);
  const n = 20000;
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
    while (Atomics.load(flag, 0) === 1) Atomics.wait(flag, 0, 1, 10);
  }
  const used = process.cpuUsage(before);
  print(
    'Atomics wait/notify round trip, back to back, CPU (both threads)',
    (used.user + used.system) / n,
    'µs',
  );
  Atomics.store(flag, 1, 1);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  await futex.terminate();
}

async function annThreadSearch(): Promise<void> {
  const dim = 64;
  const vectors = new ClusteredVectors(dim, 50, 3);
  const queries = vectors.sample(500);
  const searcher = await buildSearcher(vectors.sample(20_000), dim, { efConstruction: 100, targetRecall: 0 });
  // chunks of searches and chunks of bare timer waits alternate, so drifts in the machine's
  // speed fall on both sides of the difference
  const chunks = 10;
  const perChunk = 400;
  let withSearch = 0;
  let timerOnly = 0;
  const search = (i: number) =>
    searcher.search(queries.subarray((i % 500) * dim, ((i % 500) + 1) * dim), 100);
  for (let i = 0; i < 500; i++) await search(i).then(() => sleep(2)); // warm-up
  for (let c = 0; c < chunks; c++) {
    let before = threadCpuSeconds();
    for (let i = 0; i < perChunk; i++) await search(i).then(() => sleep(2));
    withSearch += threadCpuSeconds() - before;
    before = threadCpuSeconds();
    for (let i = 0; i < perChunk; i++) await sleep(2);
    timerOnly += threadCpuSeconds() - before;
  }
  print(
    'ANN search on its thread (20,000 x 64, k 100), 2 ms idle between: calling thread CPU per search minus the timer',
    ((withSearch - timerOnly) * 1e6) / (chunks * perChunk),
    'µs',
  );
  await searcher.close();
}

function scoring(): void {
  const items = 100_000;
  const dim = 64;
  const table = Float32Array.from({ length: items * dim }, () => Math.random() - 0.5);
  const user = Float32Array.from({ length: dim }, () => Math.random());
  const scorer = new ServedScorer(table, dim, undefined, 0);
  const requests = Array.from({ length: 2000 }, () =>
    Array.from({ length: 130 }, () => Math.floor(Math.random() * items)),
  );
  const out = new Float32Array(130);
  const oneRowAtATime = (candidates: number[]) => {
    for (let c = 0; c < candidates.length; c++) {
      const base = candidates[c]! * dim;
      let s = 0;
      for (let k = 0; k < dim; k++) s += user[k]! * table[base + k]!;
      out[c] = s;
    }
  };
  const time = (f: (candidates: number[]) => unknown) => {
    const t = process.hrtime.bigint();
    for (const r of requests) f(r);
    return Number(process.hrtime.bigint() - t) / 1e3 / requests.length;
  };
  for (let round = 0; round < 3; round++) {
    print('score 130 scattered candidates, one row at a time', time(oneRowAtATime), 'µs');
    print(
      'score 130 scattered candidates, ServedScorer',
      time((c) => scorer.scoreCandidates(user, [], c)),
      'µs',
    );
  }
}

function encoding(): void {
  const answer: RankedItems = {
    requestId: '0b8f3c2e-5d1a-4c1b-9e7f-2a3b4c5d6e7f',
    modelVersion: 'v20261128-1',
    experimentArm: 'model',
    fallback: false,
    items: Array.from({ length: 10 }, (_, i) => ({
      itemId: `item-${10_000 + i * 37}`,
      score: 0.5 + i / 100,
      reason: 'similar to Running Shoes Model X',
    })),
  };
  const impression: Impression = {
    requestId: answer.requestId,
    userId: 'a'.repeat(32),
    items: answer.items.map((it, position) => ({ ...it, position })),
    modelVersion: answer.modelVersion,
    experimentArm: answer.experimentArm,
    surface: Surface.SURFACE_RECOMMEND,
    timestamp: new Date(),
  };
  const reusedAnswer = reusingEncoder(RankedItems);
  const reusedImpression = reusingEncoder(Impression);
  const time = (f: () => unknown) => {
    const n = 100_000;
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    return Number(process.hrtime.bigint() - t) / 1e3 / n;
  };
  const cases: [string, () => unknown][] = [
    ['encode a 10-item answer, generated', () => Buffer.from(RankedItems.encode(answer).finish())],
    ['encode a 10-item answer, reusingEncoder', () => reusedAnswer(answer)],
    ['encode its impression, generated', () => Buffer.from(Impression.encode(impression).finish())],
    ['encode its impression, reusingEncoder', () => reusedImpression(impression)],
  ];
  for (let round = 0; round < 3; round++) for (const [name, f] of cases) print(name, time(f), 'µs');
}

async function main() {
  await wakeUps();
  if (!Number.isNaN(threadCpuSeconds())) await annThreadSearch(); // needs /proc
  scoring();
  encoding();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
