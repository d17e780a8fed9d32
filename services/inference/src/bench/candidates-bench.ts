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
 *   retrieval), each ranked as the evaluation's `full` protocol ranks (`fullRank`).
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
import { SequenceModel, fullRank, shuffleInPlace } from '@reco/model';
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
 * A ranking of the catalog (`row`: a score per item, -Infinity for items it leaves out): the
 * target's rank goes into `metrics` as the evaluation's `full` protocol counts it (history items
 * removed, ties toward the average position; a target left out is a miss), and its top K returns.
 */
function judge(
  row: Float32Array,
  target: number,
  history: Int32Array,
  metrics: MetricAccumulator,
  mark: Uint8Array,
): number[] {
  metrics.add(row[target]! > -Infinity ? fullRank(row, target, history, mark) : Infinity, 0);
  for (const h of history) mark[h] = 1;
  const top = topKOfRow(row, K, (i) => mark[i] === 1 || row[i] === -Infinity);
  for (const h of history) mark[h] = 0;
  return top;
}

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
  shuffleInPlace(cases, mulberry32(42)); // a fixed sample: runs compare
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
  const mark = new Uint8Array(model.numItems);
  for (let u = 0; u < sample.length; u++) {
    const user = userVector(u);
    const history = histories[u]!;
    const recent = Array.from(history);
    const target = labelOf[sample[u]!.target]!;
    // offline: the served function over the whole catalog
    const offlineTop = judge(v.score(user, recent, allItems), target, history, offline, mark);
    // online: the same function over the candidates only
    const transitions = v.transitionCandidates(recent, config.INFERENCE_TRANSITION_CANDIDATES);
    for (const [retrieved, metrics] of [
      [approximate[u]!, online],
      [exact[u]!, onlineExact],
    ] as const) {
      const labels = [...new Set([...retrieved, ...transitions])];
      const scores = v.score(user, recent, labels);
      const row = new Float32Array(model.numItems).fill(-Infinity);
      labels.forEach((l, i) => (row[l] = scores[i]!));
      const top = new Set(judge(row, target, history, metrics, mark));
      if (metrics === online) {
        candidates += labels.length;
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
