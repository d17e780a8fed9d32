import { SequenceModel } from '@reco/model';
import { MicroBatcher, artifactDir, hash32, itemHash, type InterestVector } from '@reco/realtime';
import type { ModelPublished } from '@reco/contracts';
import type { Logger } from '@reco/platform';
import type { FeaturesMetrics } from './features-metrics';

interface LoadedModel {
  version: string;
  tag: number;
  model: SequenceModel;
  /** itemHash(item id) -> the model's item index. */
  indexOfHash: Map<number, number>;
}

/**
 * The model version features encodes with, and the micro-batched encoder: users changed within
 * a few milliseconds of each other (across partitions and batches) share one model call.
 */
export class ModelHolder {
  private current: LoadedModel | undefined;
  private readonly batcher: MicroBatcher<readonly number[], InterestVector | undefined>;
  /** Bumped on every load; background work of an older generation stops. */
  generation = 0;

  constructor(
    private readonly metrics: FeaturesMetrics,
    private readonly logger: Logger,
    options: { maxBatch: number; maxWaitMs: number },
  ) {
    this.batcher = new MicroBatcher((inputs) => this.encodeBatch(inputs), {
      ...options,
      onFlush: (size, seconds) => {
        metrics.encodeBatchSize.observe(size);
        metrics.encodeSeconds.observe(seconds);
      },
    });
  }

  get version(): string | undefined {
    return this.current?.version;
  }

  get tag(): number | undefined {
    return this.current?.tag;
  }

  /** Loads a published version and switches to it (the previous one is released). */
  async load(m: ModelPublished): Promise<boolean> {
    if (this.current?.version === m.modelVersion) return false;
    const started = Date.now();
    let model: SequenceModel;
    try {
      model = await SequenceModel.load(artifactDir(m.artifactUri));
    } catch (err) {
      this.metrics.modelLoads.inc({ outcome: 'failed' });
      throw err;
    }
    const indexOfHash = new Map<number, number>();
    model.itemIds.forEach((id, i) => indexOfHash.set(itemHash(id), i));
    const previous = this.current;
    this.current = { version: m.modelVersion, tag: hash32(m.modelVersion), model, indexOfHash };
    this.generation++;
    // encodeUsers is synchronous, so no call of the previous model is in flight.
    previous?.model.dispose();
    this.metrics.modelLoads.inc({ outcome: 'loaded' });
    this.logger.info(
      { version: m.modelVersion, items: model.numItems, dim: model.dim, ms: Date.now() - started },
      'model loaded',
    );
    return true;
  }

  /** Interest vector of a sequence of item hashes (time order), or undefined without a model or known items. */
  encode(recentItemHashes: readonly number[]): Promise<InterestVector | undefined> {
    return this.batcher.submit(recentItemHashes);
  }

  private encodeBatch(inputs: (readonly number[])[]): (InterestVector | undefined)[] {
    const cur = this.current;
    if (!cur) return inputs.map(() => undefined);
    const seqs: Int32Array[] = [];
    const rowOf: number[] = [];
    for (const hashes of inputs) {
      const idx: number[] = [];
      for (const h of hashes) {
        const i = cur.indexOfHash.get(h);
        if (i !== undefined) idx.push(i);
      }
      rowOf.push(idx.length ? seqs.length : -1);
      if (idx.length) seqs.push(Int32Array.from(idx));
    }
    const vectors = seqs.length ? cur.model.encodeUsers(seqs) : new Float32Array(0);
    const dim = cur.model.dim;
    return rowOf.map((row) =>
      row < 0 ? undefined : { modelTag: cur.tag, values: vectors.slice(row * dim, (row + 1) * dim) },
    );
  }

  dispose(): void {
    this.current?.model.dispose();
    this.current = undefined;
  }
}
