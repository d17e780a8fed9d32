import { buildSearcher, type AnnSearcher, type SearcherOptions } from '@reco/ann';
import { SequenceModel, ServedScorer } from '@reco/model';
import type { ModelPublished } from '@reco/contracts';
import { ItemHashIndex, artifactDir, hash32, itemHash } from '@reco/realtime';
import type { Logger } from '@reco/platform';
import type { ItemFacts } from '../domain/catalog';
import { BestFirst } from '../domain/ranking';

/**
 * One loaded model version: the served scorer, the ANN index over its item embeddings, and
 * content-based embeddings of catalog items the model has never seen (labels numItems + j),
 * so a new item can be recommended before its first click.
 */
export class ServingVersion {
  readonly tag: number;
  readonly scorer: ServedScorer;
  readonly numItems: number;
  readonly dim: number;
  /** Labels of the items the model does not know (its own are in model.itemIndex). */
  private readonly extraLabelOf = new Map<string, number>();
  private readonly labelOfItemHash: ItemHashIndex;
  private readonly extraIds: string[] = [];
  private extraEmb: Float32Array;

  constructor(
    readonly version: string,
    readonly model: SequenceModel,
    readonly ann: AnnSearcher,
  ) {
    this.tag = hash32(version);
    this.scorer = ServedScorer.fromModel(model);
    this.numItems = model.numItems;
    this.dim = model.dim;
    this.labelOfItemHash = new ItemHashIndex(model.numItems);
    model.itemIds.forEach((id, i) => this.labelOfItemHash.set(itemHash(id), i));
    this.extraEmb = new Float32Array(64 * this.dim);
  }

  label(itemId: string): number | undefined {
    return this.model.itemIndex(itemId) ?? this.extraLabelOf.get(itemId);
  }

  labelOfHash(h: number): number | undefined {
    return this.labelOfItemHash.get(h);
  }

  itemId(label: number): string {
    return label < this.numItems ? this.model.itemIds[label] : this.extraIds[label - this.numItems];
  }

  embedding(label: number): Float32Array {
    if (label < this.numItems)
      return this.scorer.itemEmbeddings.subarray(label * this.dim, (label + 1) * this.dim);
    const j = label - this.numItems;
    return this.extraEmb.subarray(j * this.dim, (j + 1) * this.dim);
  }

  /** Indexes a catalog item the model does not know, by its content (no-op without a content tower). */
  addContentItem(item: ItemFacts): void {
    if (this.label(item.itemId) !== undefined || !this.model.content) return;
    const emb = this.model.embedContent({
      category: item.categoryPath,
      brand: item.brand,
      price: item.price,
      title: item.title,
    });
    if (!emb.some((x) => x !== 0)) return;
    const j = this.extraIds.length;
    if ((j + 1) * this.dim > this.extraEmb.length) {
      const grown = new Float32Array(this.extraEmb.length * 2);
      grown.set(this.extraEmb);
      this.extraEmb = grown;
    }
    this.extraEmb.set(emb, j * this.dim);
    this.extraIds.push(item.itemId);
    const label = this.numItems + j;
    this.extraLabelOf.set(item.itemId, label);
    this.labelOfItemHash.set(itemHash(item.itemId), label);
    this.ann.add(label, emb);
  }

  /**
   * The served score (the function the offline evaluation measures as `served`) of candidate
   * labels: dot(user, item) + weight * log1p(transitions from the user's last items); items
   * known only by content have no transitions, so their score is the dot product.
   */
  score(userVector: Float32Array, recent: readonly number[], labels: readonly number[]): Float32Array {
    // the common case, every candidate known to the model: no bookkeeping (this runs per request)
    if (labels.every((l) => l < this.numItems))
      return this.scorer.scoreCandidates(userVector, recent, labels);
    const out = new Float32Array(labels.length);
    const known: number[] = [];
    const knownPos: number[] = [];
    labels.forEach((l, p) => {
      if (l < this.numItems) {
        known.push(l);
        knownPos.push(p);
      } else out[p] = dot(userVector, this.embedding(l));
    });
    if (known.length) {
      const s = this.scorer.scoreCandidates(userVector, recent, known);
      knownPos.forEach((p, i) => (out[p] = s[i]));
    }
    return out;
  }

  /** dot(embedding(a), embedding(b)) without a view object per operand (it runs per result). */
  similarity(a: number, b: number): number {
    const known = this.scorer.itemEmbeddings;
    const va = a < this.numItems ? known : this.extraEmb;
    const vb = b < this.numItems ? known : this.extraEmb;
    const oa = (a < this.numItems ? a : a - this.numItems) * this.dim;
    const ob = (b < this.numItems ? b : b - this.numItems) * this.dim;
    let s = 0;
    for (let d = 0; d < this.dim; d++) s += va[oa + d] * vb[ob + d];
    return s;
  }

  /** Labels reached by item transitions from the user's last items (the scorer's second channel). */
  transitionCandidates(recent: readonly number[], limit: number): number[] {
    const t = this.model.transitions;
    if (!t || !this.model.blend?.weight || limit <= 0) return [];
    const labels: number[] = [];
    const scores: number[] = [];
    t.forEachScore(recent, (label, s) => {
      labels.push(label);
      scores.push(s);
    });
    // highest first, ties in visiting order
    const ranks = new BestFirst(scores);
    const out: number[] = [];
    for (let r = 0; r < Math.min(limit, ranks.length); r++) out.push(labels[ranks.at(r)]);
    return out;
  }
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * The loaded versions: the current one, plus the previous ones (up to `keep`) so that a user
 * whose vector is still from an older version is served by that version until features has
 * re-encoded them. Loading and indexing run in the background; the switch is one assignment,
 * so no request ever sees a half-loaded version.
 */
/** How long a retired version's index still answers requests that started before the switch. */
const RETIRED_INDEX_GRACE_MS = 30_000;

export class ModelRegistry {
  private readonly versions = new Map<number, ServingVersion>();
  private order: ServingVersion[] = [];
  private loading: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly keep: number,
    private readonly annOptions: SearcherOptions,
    private readonly catalogItems: () => Iterable<ItemFacts>,
    private readonly logger: Logger,
    private readonly onSwitch: (v: ServingVersion) => void = () => undefined,
    /** Versions an experiment arm serves: kept loaded beyond `keep`. */
    private readonly pinned: ReadonlySet<string> = new Set(),
  ) {}

  get current(): ServingVersion | undefined {
    return this.order[0];
  }

  /** The loaded versions, newest first. */
  get loaded(): readonly ServingVersion[] {
    return this.order;
  }

  byTag(tag: number): ServingVersion | undefined {
    return this.versions.get(tag);
  }

  byVersion(version: string): ServingVersion | undefined {
    return this.versions.get(hash32(version));
  }

  load(m: ModelPublished): Promise<boolean> {
    const next = this.loading.then(() => this.doLoad(m));
    this.loading = next.catch(() => undefined);
    return next;
  }

  private async doLoad(m: ModelPublished): Promise<boolean> {
    if (this.versions.has(hash32(m.modelVersion))) return false;
    const started = Date.now();
    const model = await SequenceModel.load(artifactDir(m.artifactUri));
    const ann = await buildSearcher(model.itemEmbeddings(), model.dim, {
      ...this.annOptions,
      // what users' queries look like (older artifacts have none: item-derived queries only)
      userQueries: model.userSample,
      onAddFailed: (label, message) =>
        this.logger.warn({ version: m.modelVersion, label, err: message }, 'item not indexed'),
    });
    const v = new ServingVersion(m.modelVersion, model, ann);
    let extra = 0;
    for (const item of this.catalogItems()) {
      v.addContentItem(item);
      if (++extra % 500 === 0) await new Promise<void>((r) => setImmediate(r));
    }
    this.versions.set(v.tag, v);
    this.order = [v, ...this.order];
    const kept = this.order.filter((o, i) => i < this.keep || this.pinned.has(o.version));
    for (const old of this.order) {
      if (kept.includes(old)) continue;
      this.versions.delete(old.tag);
      // requests in flight only use the scorer's arrays, which outlive dispose(), and the
      // index, which is closed once they have had time to finish
      old.model.dispose();
      setTimeout(() => void old.ann.close(), RETIRED_INDEX_GRACE_MS).unref();
    }
    this.order = kept;
    this.onSwitch(v);
    this.logger.info(
      {
        version: v.version,
        items: v.numItems,
        dim: v.dim,
        // the index's search candidate list, calibrated to the target recall when it was built
        annEfSearch: ann.efSearch,
        annRecall: ann.calibration ? Math.round(ann.calibration.recall * 1e4) / 1e4 : undefined,
        annRecallOnUsers: ann.calibration?.recallBy.users,
        annTargetReached: ann.calibration?.reached,
        annCalibrationMs: ann.calibration?.ms,
        annLayout: ann.layout.order,
        ms: Date.now() - started,
        kept: this.order.map((o) => o.version),
      },
      'model loaded',
    );
    if (ann.layout.failure)
      this.logger.warn(
        { version: v.version, err: ann.layout.failure },
        'ann graph kept in insertion order (searches are slower, answers the same)',
      );
    if (ann.calibration && !ann.calibration.reached)
      this.logger.warn(
        {
          version: v.version,
          annEfSearch: ann.efSearch,
          annRecall: ann.calibration.recall,
          target: ann.calibration.target,
        },
        'ann index below its target recall at the largest search candidate list (INFERENCE_ANN_MAX_EF_SEARCH)',
      );
    return true;
  }

  /** A new or changed catalog item, indexed by content in every loaded version that lacks it. */
  addCatalogItem(item: ItemFacts): void {
    for (const v of this.order) v.addContentItem(item);
  }
}
