/**
 * bench:ann — recall@100 and search cost of the HNSW index at 100,000 items for several graph
 * parameters, each with efSearch calibrated as the index does by default.
 *
 * Items: ANN_BENCH_ITEMS (default 100,000) ANN_BENCH_DIM-d (default 64) vectors clustered by 50
 * categories, drawn as bench:serve draws them (`ClusteredVectors(64, 50, 5)`, item i in
 * category i % 50). Held-out queries: ANN_BENCH_QUERIES (default 500) more draws from the same
 * clusters, as bench:serve draws its users' vectors; they are not the calibration sample.
 * For each `M:efConstruction` in ANN_BENCH_CONFIGS (default 16:200,24:200,32:200,16:400,
 * 24:400,32:400): build time (one thread), the calibration's choice, then on the held-out
 * queries recall@100 and mean search time at the calibrated ef and at each ef of
 * ANN_BENCH_EFS (default 100,200,400); and recall@100 of 100 "mixed-interest" queries (the
 * mean of 2–3 held-out queries, mostly from different categories), which calibration's sample
 * leaves out. ANN_BENCH_LAYOUTS=breadth-first,insertion also builds each config with its graph
 * left in insertion order and times both layouts' searches (same graph, same answers).
 * Prints a Markdown table on stderr, JSON on stdout.
 */
import { AnnIndex, type AnnOptions } from '../ann-index';
import { ClusteredVectors } from '../clustered-vectors';
import { exactTopKMany, recallAtK } from '../exact';

const env = (k: string, d: string) => process.env[k] ?? d;
const ITEMS = Number(env('ANN_BENCH_ITEMS', '100000'));
const DIM = Number(env('ANN_BENCH_DIM', '64'));
const QUERIES = Number(env('ANN_BENCH_QUERIES', '500'));
const K = 100;
const CONFIGS = env('ANN_BENCH_CONFIGS', '16:200,24:200,32:200,16:400,24:400,32:400')
  .split(',')
  .map((c) => c.split(':').map(Number) as [number, number]);
const EFS = env('ANN_BENCH_EFS', '100,200,400').split(',').filter(Boolean).map(Number);
const TARGET = Number(env('ANN_BENCH_TARGET_RECALL', '0.97'));
// 'breadth-first,insertion' builds each config both ways (the same graph) and times their
// searches in alternation, three rounds, reporting the median
const LAYOUTS = env('ANN_BENCH_LAYOUTS', 'breadth-first').split(',') as ('breadth-first' | 'insertion')[];
const log = (m: string) => console.error(`[bench:ann] ${m}`);

function measure(index: AnnIndex, queries: Float32Array, exact: number[][]) {
  const n = queries.length / DIM;
  const query = (q: number) => queries.subarray(q * DIM, (q + 1) * DIM);
  for (let q = 0; q < Math.min(n, 50); q++) index.search(query(q), K); // warm-up
  const t = process.hrtime.bigint();
  const approx = Array.from({ length: n }, (_, q) => index.search(query(q), K).labels);
  const us = Number(process.hrtime.bigint() - t) / 1e3 / n;
  return { recall: round(recallAtK(approx, exact), 4), searchUs: Math.round(us) };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

function main() {
  const embeddings = new ClusteredVectors(DIM, 50, 5);
  const items = embeddings.sample(ITEMS, (i) => i % 50);
  const queries = embeddings.sample(QUERIES);
  const mixed = new Float32Array(100 * DIM);
  for (let j = 0; j < 100; j++) {
    const parts = Array.from({ length: 2 + (j % 2) }, (_, p) => (j * 3 + p) % QUERIES);
    for (let d = 0; d < DIM; d++)
      mixed[j * DIM + d] = parts.reduce((s, p) => s + queries[p * DIM + d]!, 0) / parts.length;
  }
  let t = Date.now();
  const exact = exactTopKMany(items, DIM, queries, K);
  const exactMixed = exactTopKMany(items, DIM, mixed, K);
  log(`${ITEMS} items, ${DIM}-d, ${QUERIES} held-out queries; exact top-${K}: ${Date.now() - t} ms`);
  const rows: Record<string, unknown>[] = [];
  for (const [m, efConstruction] of CONFIGS) {
    const built = LAYOUTS.map((layout) => {
      const opts: AnnOptions = { m, efConstruction, targetRecall: TARGET, layout };
      t = Date.now();
      return { layout, index: AnnIndex.build(items, DIM, opts), totalMs: Date.now() - t };
    });
    const searchUsByLayout: Record<string, number> = {};
    if (built.length > 1) {
      const times = built.map(() => [] as number[]);
      for (let round = 0; round < 3; round++)
        built.forEach((b, i) => times[i]!.push(measure(b.index, queries, exact).searchUs));
      built.forEach((b, i) => (searchUsByLayout[b.layout] = times[i]!.sort((x, y) => x - y)[1]!));
    }
    const { index, totalMs } = built[0]!;
    const cal = index.calibration!;
    const calibrated = measure(index, queries, exact);
    const mixedRecall = measure(index, mixed, exactMixed).recall;
    const fixed: Record<string, { recall: number; searchUs: number }> = {};
    for (const ef of EFS) {
      index.setEfSearch(ef);
      fixed[ef] = measure(index, queries, exact);
    }
    const row = {
      m,
      efConstruction,
      buildSeconds: round((totalMs - cal.ms) / 1000, 1),
      calibrationSeconds: round(cal.ms / 1000, 1),
      calibratedEf: cal.efSearch,
      calibrationRecall: round(cal.recall, 4),
      reached: cal.reached,
      heldOutRecall: calibrated.recall,
      searchUs: calibrated.searchUs,
      mixedRecall,
      ladder: cal.ladder.map((r) => `${r.efSearch}:${r.recall.toFixed(3)}`).join(' '),
      layout: index.layout.order,
      ...(built.length > 1 ? { medianSearchUsByLayout: searchUsByLayout } : {}),
      fixed,
    };
    rows.push(row);
    log(JSON.stringify(row));
  }
  const efCols = EFS.map((ef) => `ef ${ef} recall / µs`);
  console.error(
    [
      `| M | efC | build s | calibration s | calibrated ef (sample recall) | held-out recall@${K} | µs/search | mixed recall | ${efCols.join(' | ')} |`,
      `| --- | --- | --- | --- | --- | --- | --- | --- | ${efCols.map(() => '---').join(' | ')} |`,
      ...rows.map((r) => {
        const f = r.fixed as Record<string, { recall: number; searchUs: number }>;
        return `| ${String(r.m)} | ${String(r.efConstruction)} | ${String(r.buildSeconds)} | ${String(r.calibrationSeconds)} | ${String(r.calibratedEf)} (${String(r.calibrationRecall)}) | ${String(r.heldOutRecall)} | ${String(r.searchUs)} | ${String(r.mixedRecall)} | ${EFS.map((ef) => `${f[ef]!.recall} / ${f[ef]!.searchUs}`).join(' | ')} |`;
      }),
    ].join('\n'),
  );
  console.log(JSON.stringify({ items: ITEMS, dim: DIM, queries: QUERIES, k: K, target: TARGET, rows }));
}

main();
