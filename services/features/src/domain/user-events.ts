import { Interaction, type CategoryAffinity, type UserState } from '@reco/realtime';

/** Bounds of the per-user state (it must stay compact: see README). */
export interface StateLimits {
  maxRecent: number;
  maxBought: number;
  maxCategories: number;
  /** Category affinities halve after this many seconds without activity. */
  categoryHalfLifeSeconds: number;
}

export const DEFAULT_STATE_LIMITS: StateLimits = {
  maxRecent: 20,
  maxBought: 8,
  maxCategories: 4,
  categoryHalfLifeSeconds: 3 * 86400,
};

/** A clean event reduced to what user state needs. */
export interface UserEvent {
  kind: Interaction;
  /** itemHash of the item. */
  item: number;
  /** hash32 of the item's category path, when the catalog knows the item. */
  category?: number;
  /** Event time, unix seconds. */
  at: number;
}

/** Strength of an interaction for category affinity and popularity. */
export const INTERACTION_WEIGHT: Record<Interaction, number> = {
  [Interaction.View]: 1,
  [Interaction.Click]: 2,
  [Interaction.Cart]: 3,
  [Interaction.Purchase]: 5,
};

/**
 * Applies a user's events (in order) to their state. `sequenceChanged` says whether the item
 * sequence the encoder reads changed (a repeat of the latest item only strengthens it).
 */
export function applyEvents(
  state: UserState,
  events: readonly UserEvent[],
  limits: StateLimits = DEFAULT_STATE_LIMITS,
): { state: UserState; sequenceChanged: boolean } {
  const recent = state.recent.slice();
  let bought = state.bought.slice();
  let categories = state.categories.slice();
  let updatedAt = state.updatedAt;
  let sequenceChanged = false;
  for (const e of events) {
    updatedAt = Math.max(updatedAt, e.at);
    const last = recent[recent.length - 1];
    if (last && last.item === e.item) {
      recent[recent.length - 1] = { item: e.item, kind: Math.max(last.kind, e.kind) as Interaction };
    } else {
      recent.push({ item: e.item, kind: e.kind });
      sequenceChanged = true;
    }
    if (e.kind === Interaction.Purchase) bought = [...bought.filter((b) => b !== e.item), e.item];
    if (e.category !== undefined)
      categories = bumpCategory(categories, e.category, INTERACTION_WEIGHT[e.kind], e.at, limits);
  }
  return {
    state: {
      updatedAt,
      recent: recent.slice(-limits.maxRecent),
      bought: bought.slice(-limits.maxBought),
      categories: categories.slice(0, limits.maxCategories),
      vector: state.vector,
    },
    sequenceChanged,
  };
}

/** An affinity decayed to time `at` (exponential, by the half-life). */
export function decayedScore(a: CategoryAffinity, at: number, halfLifeSeconds: number): number {
  const dt = Math.max(0, at - a.lastSeen);
  return a.score * Math.pow(0.5, dt / halfLifeSeconds);
}

function bumpCategory(
  categories: CategoryAffinity[],
  category: number,
  weight: number,
  at: number,
  limits: StateLimits,
): CategoryAffinity[] {
  const decayed = categories.map((c) => ({
    category: c.category,
    score: decayedScore(c, at, limits.categoryHalfLifeSeconds),
    lastSeen: Math.max(c.lastSeen, at),
  }));
  const hit = decayed.find((c) => c.category === category);
  if (hit) hit.score += weight;
  else decayed.push({ category, score: weight, lastSeen: at });
  // Strongest first; the weakest falls off when over the cap.
  return decayed.sort((a, b) => b.score - a.score).slice(0, limits.maxCategories);
}
