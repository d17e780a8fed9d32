/**
 * pnpm bench:candidates — how much of the offline `served` ranking the online candidate path
 * keeps, on a real trained model and real users.
 *
 * Online, `Recommend` scores only its candidates: the ANN index's top INFERENCE_ANN_CANDIDATES
 * by dot product (HNSW, built and calibrated as inference builds it) plus up to
 * INFERENCE_TRANSITION_CANDIDATES items reached by transitions from the user's recent items.
 * The evaluation CLI's `served` scores the whole catalog with the same function. For a sample of
 * the dataset's test users (leave-one-out: history = all but the last item, which is the target)
 * this prints:
 * - the ANN's recall@candidates against exact dot-product search on these users' vectors, and
 *   its mean search time (one thread, searches one after another);
 * - overlap of the online top 10 with the offline top 10;
 * - HR@10 and NDCG@10 of the target, offline and online (and online with exact instead of ANN
 *   retrieval), history items excluded from every ranking and ties counted as the evaluation CLI
 *   counts them.
 *
 * Needs a model artifact trained on the dataset's ids, e.g. from
 * `pnpm reco evaluate --data <file> --model served --model-opt save=<dir>`.
 * Settings: CANDIDATES_BENCH_MODEL (artifact directory), CANDIDATES_BENCH_DATA (seq file),
 * CANDIDATES_BENCH_FORMAT (seq), CANDIDATES_BENCH_USERS (sample size, default 3000), and
 * inference's own INFERENCE_ANN_* / INFERENCE_*_CANDIDATES settings.
 * Not a test: it asserts nothing. JSON on stdout.
 */
import { buildSearcher, exactTopKMany, recallAtK } from '@reco/ann';
import {
  DATASET_FORMATS,
  MetricAccumulator,
  leaveOneOut,
  loadDataset,
  mulberry32,
  topKOfRow,
  type DatasetFormat,
} from '@reco/evaluation';
import { SequenceModel } from '@reco/model';
import { ServingVersion } from '../adapters/model-registry';
import { annOptions, loadInferenceConfig } from '../config';

const log = (m: string) => process.stderr.write(`[bench:candidates] ${m}\n`);
const K = 10;

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required (see the header of candidates-bench.ts)`);
  return v;
}

/**
 * Adds the target's rank among `items` (by `scores`, same order; excluded items not ranked) to
 * `metrics`, as the evaluation CLI counts it (ties: its default mode); a target that is not among
 * the items is a miss.
 */
function addRanking(
  metrics: MetricAccumulator,
  target: number,
  items: ArrayLike<number>,
  scores: ArrayLike<number>,
  excluded: Set<number>,
): void {
  let at = -1;
  for (let i = 0; i < items.length; i++) if (items[i] === target) at = i;
  if (at < 0) return metrics.add(Number.POSITIVE_INFINITY, 0);
  let higher = 0;
  let ties = 0;
  for (let i = 0; i < items.length; i++) {
    if (i === at || excluded.has(items[i]!)) continue;
    if (scores[i]! > scores[at]!) higher++;
    else if (scores[i] === scores[at]) ties++;
  }
  metrics.add(higher, ties);
}

/** Top K of `items` by `scores` (same order), excluded items skipped. */
const topOf = (items: readonly number[], scores: ArrayLike<number>, excluded: Set<number>) =>
  topKOfRow(scores, K, (i) => excluded.has(items[i]!)).map((i) => items[i]!);

const round = (x: number) => Math.round(x * 1e4) / 1e4;
const quality = (m: MetricAccumulator) => {
  const r = m.result();
  return { hr10: round(r[`HR@${K}`]!), ndcg10: round(r[`NDCG@${K}`]!) };
};

async function main() {
  // inference's settings as deployed; the bench itself connects to neither Kafka nor Redis
  const config = loadInferenceConfig({
    KAFKA_BROKERS: '127.0.0.1:9092',
    REDIS_URL: 'redis://127.0.0.1:6379',
    ...process.env,
  });
  const modelDir = required('CANDIDATES_BENCH_MODEL');
  const format = (process.env.CANDIDATES_BENCH_FORMAT ?? 'seq') as DatasetFormat;
  if (!DATASET_FORMATS.includes(format))
    throw new Error(`CANDIDATES_BENCH_FORMAT: '${format}' is not one of ${DATASET_FORMATS.join(', ')}`);
  const sampleSize = Number(process.env.CANDIDATES_BENCH_USERS ?? 3000);
  if (!Number.isInteger(sampleSize) || sampleSize < 1)
    throw new Error(
      `CANDIDATES_BENCH_USERS: '${process.env.CANDIDATES_BENCH_USERS}' is not a positive integer`,
    );
  const dataset = loadDataset(required('CANDIDATES_BENCH_DATA'), format);
  const model = await SequenceModel.load(modelDir);
  // The dataset's item index → the model's label (the model was trained on the dataset's ids).
  const labelOf = dataset.itemIds.map((id) => model.itemIndex(id) ?? -1);
  const toLabels = (s: Int32Array) =>
    Int32Array.from(Array.from(s, (i) => labelOf[i]!).filter((l) => l >= 0));

  const cases = leaveOneOut(dataset).test.filter((c) => labelOf[c.target]! >= 0);
  const rand = mulberry32(42); // a fixed sample: runs compare
  for (let i = cases.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [cases[i], cases[j]] = [cases[j]!, cases[i]!];
  }
  const sample = cases.slice(0, sampleSize);
  log(`${model.numItems} items, ${model.dim}-d; ${sample.length} of ${cases.length} test users`);

  const t = Date.now();
  const ann = await buildSearcher(model.itemEmbeddings(), model.dim, {
    ...annOptions(config),
    userQueries: model.userSample, // as inference builds it
    thread: false,
  });
  log(`index built and calibrated in ${((Date.now() - t) / 1000).toFixed(1)} s, efSearch ${ann.efSearch}`);
  const v = new ServingVersion('bench', model, ann);
  const histories = sample.map((c) => toLabels(c.history));
  const users = model.encodeUsers(histories);
  const dim = model.dim;
  const userVector = (u: number) => users.subarray(u * dim, (u + 1) * dim);
  const kAnn = config.INFERENCE_ANN_CANDIDATES;

  const exact = exactTopKMany(model.itemEmbeddings(), dim, users, kAnn);
  const approximate: number[][] = [];
  const started = process.hrtime.bigint();
  for (let u = 0; u < sample.length; u++) approximate.push((await ann.search(userVector(u), kAnn)).labels);
  const annSearchUs = Number(process.hrtime.bigint() - started) / 1e3 / sample.length;

  const offline = new MetricAccumulator([K]);
  const online = new MetricAccumulator([K]);
  const onlineExact = new MetricAccumulator([K]);
  let overlap = 0;
  let candidates = 0;
  const allItems = Array.from({ length: model.numItems }, (_, i) => i);
  for (let u = 0; u < sample.length; u++) {
    const user = userVector(u);
    const recent = Array.from(histories[u]!);
    const excluded = new Set(recent);
    const target = labelOf[sample[u]!.target]!;
    // offline: the served function over the whole catalog
    const full = v.score(user, recent, allItems);
    addRanking(offline, target, allItems, full, excluded);
    const offlineTop = topOf(allItems, full, excluded);
    // online: the same function over the candidates only
    const transitions = v.transitionCandidates(recent, config.INFERENCE_TRANSITION_CANDIDATES);
    for (const [retrieved, metrics] of [
      [approximate[u]!, online],
      [exact[u]!, onlineExact],
    ] as const) {
      const labels = [...new Set([...retrieved, ...transitions])];
      const scores = v.score(user, recent, labels);
      addRanking(metrics, target, labels, scores, excluded);
      if (metrics === online) {
        candidates += labels.length;
        const top = new Set(topOf(labels, scores, excluded));
        overlap += offlineTop.filter((i) => top.has(i)).length / K;
      }
    }
  }
  await ann.close();
  const result = {
    model: modelDir,
    items: model.numItems,
    users: sample.length,
    annCandidates: kAnn,
    transitionCandidates: config.INFERENCE_TRANSITION_CANDIDATES,
    efSearch: ann.efSearch,
    calibration: ann.calibration && {
      recallOnItemQueries: round(ann.calibration.recallBy.items),
      recallOnUserSample: ann.calibration.recallBy.users && round(ann.calibration.recallBy.users),
      userQueries: (model.userSample?.length ?? 0) / model.dim,
    },
    annRecall: round(recallAtK(approximate, exact)),
    annSearchUs: Math.round(annSearchUs),
    meanCandidates: Math.round(candidates / sample.length),
    top10Overlap: round(overlap / sample.length),
    offline: quality(offline),
    online: quality(online),
    onlineExactRetrieval: quality(onlineExact),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  log(String(err instanceof Error ? err.stack : err));
  process.exit(1);
});
