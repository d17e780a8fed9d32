import { randomUUID } from 'node:crypto';
import {
  Surface,
  type Filters,
  type RankedItems,
  type RecommendRequest,
  type SearchRequest,
  type SimilarItemsRequest,
} from '@reco/contracts';
import { Interaction, MicroBatcher, type UserState } from '@reco/realtime';
import type { Catalog } from './domain/catalog';
import {
  BestFirst,
  categoryFirst,
  finalize,
  finalizeBestFirst,
  matchReason,
  normalize,
  popularReason,
  similarReason,
  type PopularCandidate,
  type RankedResult,
  type RuleContext,
} from './domain/ranking';
import type { LexicalSearch } from './adapters/lexical-search';
import { validateRecommend, validateSearch, validateSimilar, type RequestLimits } from './domain/validation';
import { dot, type ModelRegistry, type ServingVersion } from './adapters/model-registry';
import type { InferenceMetrics } from './adapters/inference-metrics';
import type { UserRead } from './adapters/user-reader';
import type { Impression } from '@reco/contracts';
import { armModel, type ArmAssigner } from '@reco/experiments';
import type { Pseudonymizer } from '@reco/platform';

export interface RecommenderSettings {
  /** Candidates taken from the ANN index per request. */
  annCandidates: number;
  /** Candidates taken from item transitions of the user's last items. */
  transitionCandidates: number;
  /** Max share of one category in the top k. */
  maxCategoryShare: number;
  /** The user's last n items are "just viewed" and not recommended. */
  justViewed: number;
  /** Items created within this many days are labelled "new arrival". */
  newArrivalDays: number;
  /** Weight of the user's interest in search order (0 = lexical only). */
  searchBlend: number;
  /** Lexical hits considered per search. */
  searchCandidates: number;
  /** Which arm of the A/B experiment a user is in (`popular` arms get the baseline). */
  experiment: ArmAssigner;
  /** Turns the gateway's raw user ids into the pseudonyms ingest writes (absent: ids are pseudonyms). */
  pseudonymizer?: Pseudonymizer;
  scoreBatch: { maxBatch: number; maxWaitMs: number };
}

export interface RecommenderDeps {
  catalog: Catalog;
  registry: ModelRegistry;
  users: { read(userId: string): Promise<UserRead> };
  popularity: {
    trending: { itemId: string; score: number }[];
    popular24h: { itemId: string; score: number }[];
  };
  search: Pick<LexicalSearch, 'search'>;
  impressions: { publish(i: Impression): void };
  metrics: InferenceMetrics;
  limits: RequestLimits;
  settings: RecommenderSettings;
}

/** Raised when the caller's deadline passed before the answer was ready. */
export class DeadlineExceeded extends Error {}

interface ScoreJob {
  version: ServingVersion;
  user: Float32Array;
  recent: number[];
  labels: number[];
}

/** Recommend, SimilarItems and Search, independent of gRPC. */
export class Recommender {
  private readonly scorer: MicroBatcher<ScoreJob, Float32Array>;
  private popularCache?: {
    trending: unknown;
    popular24h: unknown;
    newest: unknown;
    candidates: PopularCandidate[];
  };

  constructor(private readonly d: RecommenderDeps) {
    this.scorer = new MicroBatcher((jobs) => jobs.map((j) => j.version.score(j.user, j.recent, j.labels)), {
      ...d.settings.scoreBatch,
      onFlush: (size) => d.metrics.scoreBatchSize.observe(size),
    });
  }

  private readonly isKnownCategory = (c: string) =>
    this.d.catalog.size === 0 || this.d.catalog.isKnownCategory(c);

  /**
   * Runs an asynchronous stage and records its time. An await in try/finally: `promise.finally`
   * costs two more promises and two more microtask turns per stage (three stages a request).
   */
  private async timed<T>(stage: string, f: () => Promise<T>): Promise<T> {
    const t = process.hrtime.bigint();
    try {
      return await f();
    } finally {
      this.record(stage, t);
    }
  }

  /** Runs a synchronous stage and records its time, without a promise or a turn of its own. */
  private timedSync<T>(stage: string, f: () => T): T {
    const t = process.hrtime.bigint();
    try {
      return f();
    } finally {
      this.record(stage, t);
    }
  }

  private record(stage: string, since: bigint): void {
    this.d.metrics.stageSeconds.observe(stage, Number(process.hrtime.bigint() - since) / 1e9);
  }

  private check(deadline: number | undefined): void {
    if (deadline !== undefined && Date.now() > deadline) throw new DeadlineExceeded('deadline exceeded');
  }

  /** The user as the rest of the system knows them: the raw id never goes further than this. */
  private pseudonymOf(userId: string): string {
    const p = this.d.settings.pseudonymizer;
    return p && userId ? p.pseudonym(userId) : userId;
  }

  async recommend(raw: RecommendRequest, deadline?: number): Promise<RankedItems> {
    validateRecommend(raw, this.d.limits, this.isKnownCategory);
    const req = { ...raw, userId: this.pseudonymOf(raw.userId) };
    const requestId = randomUUID();
    // Anonymous requests are assigned by request id: stable only for that request.
    const arm = this.d.settings.experiment.assign(req.userId || requestId);
    const read = await this.timed('redis', () => this.d.users.read(req.userId));
    this.check(deadline);
    const state = read.state;
    const exclude = this.excluded(state, req.context?.itemId);
    if (armModel(arm).kind === 'popular') {
      // The baseline arm: the same business rules over popular items, no model.
      const items = this.timedSync('rules', () =>
        this.popular(req.k, req.filters, exclude, req.context?.itemId),
      );
      return this.respond(
        requestId,
        req.userId,
        'popular',
        items,
        false,
        Surface.SURFACE_RECOMMEND,
        arm.name,
      );
    }
    const served = await this.servingVersionFor(armModel(arm), state);
    const v = served?.version;
    let items: RankedResult[] = [];
    let personalized = false;
    if (served && state && this.d.registry.current) {
      items = await this.personalized(served.version, served.user, state, req.k, req.filters, exclude);
      personalized = items.length > 0;
    } else {
      const reason = read.degraded
        ? read.reason
        : !this.d.registry.current
          ? 'no_model'
          : state?.vector
            ? 'unknown_version'
            : 'cold_start';
      this.d.metrics.fallback.inc({ method: 'Recommend', reason });
    }
    this.check(deadline);
    if (items.length < req.k) {
      // cold start, or personalization filtered too far: popular items fill the answer
      if (personalized) this.d.metrics.popularFill.inc({ method: 'Recommend' });
      const have = new Set(items.map((i) => i.itemId));
      const more = this.timedSync('rules', () =>
        this.popular(req.k - items.length, req.filters, new Set([...exclude, ...have]), req.context?.itemId),
      );
      items = [...items, ...more];
    }
    const version = personalized ? v!.version : (this.d.registry.current?.version ?? '');
    return this.respond(
      requestId,
      req.userId,
      version,
      items,
      !personalized,
      Surface.SURFACE_RECOMMEND,
      arm.name,
    );
  }

  /** Bought items, the last few viewed, and the page's own item. */
  private excluded(state: UserState | undefined, contextItem: string | undefined): Set<string> {
    const out = new Set<string>();
    if (contextItem) out.add(contextItem);
    if (!state) return out;
    for (const h of state.bought) {
      const id = this.d.catalog.idOfHash(h);
      if (id) out.add(id);
    }
    for (const r of state.recent.slice(-this.d.settings.justViewed)) {
      const id = this.d.catalog.idOfHash(r.item);
      if (id) out.add(id);
    }
    return out;
  }

  /**
   * The version that ranks for this user and the user's vector under it: the version that
   * encoded the stored vector (live arms); for an arm pinned to a version, that version, with
   * the vector encoded here from the user's recent items when features wrote it under another.
   */
  private async servingVersionFor(
    arm: ReturnType<typeof armModel>,
    state: UserState | undefined,
  ): Promise<{ version: ServingVersion; user: Float32Array } | undefined> {
    if (!state) return undefined;
    if (arm.kind !== 'version') {
      const v = state.vector ? this.d.registry.byTag(state.vector.modelTag) : undefined;
      return v && state.vector ? { version: v, user: state.vector.values } : undefined;
    }
    const pinned = this.d.registry.byVersion(arm.version);
    if (!pinned) return undefined; // not loaded (yet): the fallback below answers, counted
    if (state.vector?.modelTag === pinned.tag) return { version: pinned, user: state.vector.values };
    const recent: number[] = [];
    for (const r of state.recent) {
      const l = pinned.labelOfHash(r.item);
      if (l !== undefined && l < pinned.numItems) recent.push(l);
    }
    if (recent.length === 0) return undefined;
    const user = this.timedSync('model', () => pinned.model.encodeUsers([Int32Array.from(recent)]));
    return { version: pinned, user };
  }

  private async personalized(
    v: ServingVersion,
    user: Float32Array,
    state: UserState,
    k: number,
    filters: Filters | undefined,
    exclude: Set<string>,
  ): Promise<RankedResult[]> {
    const s = this.d.settings;
    const recent: number[] = [];
    for (const r of state.recent) {
      const l = v.labelOfHash(r.item);
      if (l !== undefined && l < v.numItems) recent.push(l);
    }
    const labels = await this.timed('ann', async () => {
      const found = (await v.ann.search(user, s.annCandidates)).labels;
      // a few dozen transition candidates against about a hundred: a scan allocates nothing
      for (const l of v.transitionCandidates(recent, s.transitionCandidates))
        if (!found.includes(l)) found.push(l);
      return found;
    });
    const scores = await this.timed('model', () => this.scorer.submit({ version: v, user, recent, labels }));
    return this.timedSync('rules', () => {
      const labelOf = new Map<string, number>();
      const ranked = rankLabels(v, labels, scores, '', k, this.ruleContext(filters, exclude), labelOf);
      // reasons: the viewed item each recommendation is closest to
      const anchors = state.recent
        .filter((r) => r.kind >= Interaction.View)
        .slice(-3)
        .map((r) => v.labelOfHash(r.item))
        .filter((l): l is number => l !== undefined);
      // each anchor's reason is looked up once, not once per result it explains
      const anchorReasons = anchors.map((a) => {
        const anchor = this.d.catalog.get(v.itemId(a));
        return anchor ? similarReason(anchor.title || anchor.itemId) : undefined;
      });
      for (const r of ranked) {
        if (r.reason) continue;
        const label = labelOf.get(r.itemId)!;
        let best = -1;
        let bestScore = -Infinity;
        for (let i = 0; i < anchors.length; i++) {
          const sc = v.similarity(anchors[i], label);
          if (sc > bestScore) {
            bestScore = sc;
            best = i;
          }
        }
        r.reason =
          (best >= 0 ? anchorReasons[best] : undefined) ?? popularReason(this.d.catalog.get(r.itemId));
      }
      return ranked;
    });
  }

  private ruleContext(filters: Filters | undefined, exclude: Set<string>) {
    return {
      filters,
      exclude,
      maxCategoryShare: this.d.settings.maxCategoryShare,
      newArrivalSince: Date.now() - this.d.settings.newArrivalDays * 86400_000,
      facts: (id: string) => this.d.catalog.get(id),
    };
  }

  /** Trending, then 24 h popular, then newest catalog items; the context item's category first. */
  private popular(
    k: number,
    filters: Filters | undefined,
    exclude: Set<string>,
    contextItem?: string,
  ): RankedResult[] {
    if (k <= 0) return [];
    const contextCategory = contextItem ? this.d.catalog.get(contextItem)?.category : undefined;
    const candidates = this.popularCandidates();
    // already best first (and categoryFirst keeps it so): no sort of thousands per request
    const ranked = contextCategory ? categoryFirst(candidates, contextCategory) : candidates;
    return finalizeBestFirst(
      ranked.length,
      (rank) => ranked[rank],
      k,
      this.ruleContext(filters, exclude),
    ).map((r) => ({
      ...r,
      reason: r.reason === 'new arrival' ? r.reason : popularReason(this.d.catalog.get(r.itemId)),
    }));
  }

  /**
   * The popular candidates, best first, rebuilt only when the popularity lists or the catalog
   * change: building them takes milliseconds for a few thousand items, far too long to repeat
   * in every cold-start request.
   */
  private popularCandidates(): PopularCandidate[] {
    const { trending, popular24h } = this.d.popularity;
    const newest = this.d.catalog.newestInStock(1000);
    const cached = this.popularCache;
    if (
      cached &&
      cached.trending === trending &&
      cached.popular24h === popular24h &&
      cached.newest === newest
    )
      return cached.candidates;
    const candidates: PopularCandidate[] = [];
    const add = (list: { itemId: string; score: number }[], base: number) => {
      const norm = normalize(list.map((x) => x.score));
      list.forEach((x, i) => {
        const item = this.d.catalog.get(x.itemId);
        candidates.push({
          itemId: x.itemId,
          score: base + norm[i],
          reason: popularReason(item),
          category: item?.category,
        });
      });
    };
    add(trending, 4);
    add(popular24h, 2);
    add(
      newest.map((i) => ({ itemId: i.itemId, score: i.createdAt })),
      0,
    );
    candidates.sort((a, b) => b.score - a.score);
    this.popularCache = { trending, popular24h, newest, candidates };
    return candidates;
  }

  async similarItems(req: SimilarItemsRequest, deadline?: number): Promise<RankedItems> {
    validateSimilar(req, this.d.limits, this.isKnownCategory);
    const requestId = randomUUID();
    const v = this.d.registry.current;
    const item = this.d.catalog.get(req.itemId);
    let label = v?.label(req.itemId);
    if (v && label === undefined && item) {
      v.addContentItem(item);
      label = v.label(req.itemId);
    }
    if (!v || label === undefined) {
      // unknown item: not an error; items popular in its category when the catalog knows it
      this.d.metrics.fallback.inc({ method: 'SimilarItems', reason: v ? 'unknown_item' : 'no_model' });
      const items = item
        ? this.popular(
            req.k,
            {
              ...emptyFilters(),
              ...req.filters,
              categories: req.filters?.categories.length ? req.filters.categories : [item.category],
            },
            new Set([req.itemId]),
          )
        : [];
      return this.respond(requestId, '', v?.version ?? '', items, true, Surface.SURFACE_SIMILAR_ITEMS);
    }
    const emb = v.embedding(label);
    const recent = label < v.numItems ? [label] : [];
    const labels = await this.timed('ann', async () => {
      const set = new Set((await v.ann.search(emb, this.d.settings.annCandidates + 1)).labels);
      for (const l of v.transitionCandidates(recent, this.d.settings.transitionCandidates)) set.add(l);
      set.delete(label);
      return [...set];
    });
    this.check(deadline);
    const scores = await this.timed('model', () =>
      this.scorer.submit({ version: v, user: emb, recent, labels }),
    );
    const reason = similarReason(item?.title || req.itemId);
    const items = this.timedSync('rules', () =>
      rankLabels(v, labels, scores, reason, req.k, this.ruleContext(req.filters, new Set([req.itemId]))),
    );
    return this.respond(requestId, '', v.version, items, false, Surface.SURFACE_SIMILAR_ITEMS);
  }

  async search(raw: SearchRequest, deadline?: number): Promise<RankedItems> {
    validateSearch(raw, this.d.limits, this.isKnownCategory);
    const req = { ...raw, userId: this.pseudonymOf(raw.userId) };
    const requestId = randomUUID();
    const hits = await this.timed('search', () =>
      this.d.search.search(req.query, this.d.settings.searchCandidates),
    );
    let v: ServingVersion | undefined;
    let user: Float32Array | undefined;
    if (req.userId) {
      const read = await this.timed('redis', () => this.d.users.read(req.userId));
      if (read.degraded) this.d.metrics.fallback.inc({ method: 'Search', reason: read.reason });
      const vec = read.state?.vector;
      v = vec ? this.d.registry.byTag(vec.modelTag) : undefined;
      user = v ? vec!.values : undefined;
    }
    this.check(deadline);
    const lexical = normalize(hits.map((h) => h.score));
    let scores = lexical;
    if (v && user && hits.length > 1) {
      const personal = hits.map((h) => {
        const l = v!.label(h.itemId);
        return l === undefined ? Number.NaN : dot(user!, v!.embedding(l));
      });
      const known = personal.filter((x) => !Number.isNaN(x));
      const lo = known.length ? Math.min(...known) : 0;
      const p = normalize(personal.map((x) => (Number.isNaN(x) ? lo : x)));
      const b = this.d.settings.searchBlend;
      scores = lexical.map((x, i) => (1 - b) * x + b * p[i]);
    }
    const reason = matchReason(req.query);
    const items = this.timedSync('rules', () =>
      finalize(
        hits.map((h, i) => ({ itemId: h.itemId, score: scores[i], reason })),
        req.k,
        { ...this.ruleContext(req.filters, new Set()), maxCategoryShare: 1, dropOutOfStock: false },
      ).map((r) => ({ ...r, reason })),
    );
    const personalized = v !== undefined && user !== undefined;
    return this.respond(
      requestId,
      req.userId,
      personalized ? v!.version : (this.d.registry.current?.version ?? ''),
      items,
      !personalized && !!req.userId,
      Surface.SURFACE_SEARCH,
    );
  }

  private respond(
    requestId: string,
    userId: string,
    modelVersion: string,
    items: RankedResult[],
    fallback: boolean,
    surface: Surface,
    experimentArm = this.d.settings.experiment.assign(userId || requestId).name,
  ): RankedItems {
    this.d.impressions.publish({
      requestId,
      userId,
      items: items.map((it, position) => ({
        itemId: it.itemId,
        position,
        score: it.score,
        reason: it.reason,
      })),
      modelVersion,
      experimentArm,
      surface,
      timestamp: new Date(),
    });
    return { requestId, modelVersion, experimentArm, items, fallback };
  }
}

/**
 * Scored labels of one version through the business rules, building only the candidates
 * reached. Each result's label goes into `labelOf` when given (the caller's reasons need it,
 * and looking an id up again in the version's table of all items costs more than keeping it).
 */
function rankLabels(
  v: ServingVersion,
  labels: readonly number[],
  scores: Float32Array,
  reason: string,
  k: number,
  ctx: RuleContext,
  labelOf?: Map<string, number>,
): RankedResult[] {
  const ranks = new BestFirst(scores);
  return finalizeBestFirst(
    ranks.length,
    (rank) => {
      const i = ranks.at(rank);
      const itemId = v.itemId(labels[i]);
      labelOf?.set(itemId, labels[i]);
      return { itemId, score: scores[i], reason };
    },
    k,
    ctx,
  );
}

const emptyFilters = (): Filters => ({
  categories: [],
  minPrice: 0,
  maxPrice: 0,
  inStockOnly: false,
  excludeItemIds: [],
});
