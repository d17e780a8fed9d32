/** The worker thread behind ThreadSearcher: owns one AnnIndex and answers batches of searches. */
import { parentPort } from 'node:worker_threads';
import {
  AnnIndex,
  type AnnCalibration,
  type AnnIndexMeta,
  type AnnLayout,
  type AnnOptions,
} from './ann-index';

export type WorkerRequest =
  | { type: 'build'; vectors: Float32Array; dim: number; opts: AnnOptions }
  /** Build, save to `path` and answer `saved`: the caller loads and searches the index itself. */
  | { type: 'buildToFile'; vectors: Float32Array; dim: number; opts: AnnOptions; path: string }
  | { type: 'add'; label: number; vector: Float32Array }
  | { type: 'search'; queries: Float32Array; ks: Int32Array };

export type WorkerReply =
  /** `calibration` is undefined when it is off (`targetRecall: 0`). */
  | { type: 'built'; size: number; efSearch: number; calibration?: AnnCalibration; layout: AnnLayout }
  | { type: 'saved'; meta: AnnIndexMeta }
  /** Hits of query i are the next counts[i] entries of labels and scores. */
  | { type: 'found'; counts: Int32Array; labels: Int32Array; scores: Float32Array }
  | { type: 'failed'; message: string }
  | { type: 'addFailed'; label: number; message: string };

let index: AnnIndex | undefined;

function handle(req: WorkerRequest): WorkerReply | undefined {
  switch (req.type) {
    case 'build':
      index = AnnIndex.build(req.vectors, req.dim, req.opts);
      return {
        type: 'built',
        size: index.size,
        efSearch: index.efSearch,
        calibration: index.calibration,
        layout: index.layout,
      };
    case 'buildToFile':
      return { type: 'saved', meta: AnnIndex.build(req.vectors, req.dim, req.opts).save(req.path) };
    case 'add':
      try {
        index!.add(req.label, req.vector);
        return undefined;
      } catch (err) {
        return {
          type: 'addFailed',
          label: req.label,
          message: err instanceof Error ? err.message : String(err),
        };
      }
    case 'search': {
      const dim = req.queries.length / req.ks.length;
      const hits = Array.from(req.ks, (k, i) =>
        index!.search(req.queries.subarray(i * dim, (i + 1) * dim), k),
      );
      const total = hits.reduce((n, h) => n + h.labels.length, 0);
      const reply = {
        type: 'found' as const,
        counts: Int32Array.from(hits, (h) => h.labels.length),
        labels: new Int32Array(total),
        scores: new Float32Array(total),
      };
      let at = 0;
      for (const h of hits) {
        reply.labels.set(h.labels, at);
        reply.scores.set(h.scores, at);
        at += h.labels.length;
      }
      return reply;
    }
  }
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (req: WorkerRequest) => {
    let reply: WorkerReply | undefined;
    try {
      reply = handle(req);
    } catch (err) {
      reply = { type: 'failed', message: err instanceof Error ? err.message : String(err) };
    }
    if (!reply) return;
    const transfer =
      reply.type === 'found'
        ? ([reply.counts.buffer, reply.labels.buffer, reply.scores.buffer] as ArrayBuffer[])
        : [];
    port.postMessage(reply, transfer);
  });
}
