import { EventType } from '@reco/contracts';

/** The event types that say a user was interested in an item. */
export const INTERACTION_TYPES: ReadonlySet<EventType> = new Set([
  EventType.EVENT_TYPE_VIEW,
  EventType.EVENT_TYPE_CLICK,
  EventType.EVENT_TYPE_ADD_TO_CART,
  EventType.EVENT_TYPE_PURCHASE,
]);

export interface Interaction {
  userId: string;
  itemId: string;
  type: EventType;
  /** Event time in ms. */
  time: number;
}

/** One user's interactions in log order (per-user order is preserved by the partitioning). */
export interface UserHistory {
  items: string[];
  times: number[];
}

/**
 * Folds clean events into per-user histories. Consecutive interactions with the same item
 * (a view, then a click, then an add-to-cart of it) count once: the model learns what comes
 * next, and "the same item again" is not a recommendation.
 */
export function buildHistories(events: Iterable<Interaction>): Map<string, UserHistory> {
  const histories = new Map<string, UserHistory>();
  for (const e of events) {
    if (!INTERACTION_TYPES.has(e.type) || !e.itemId) continue;
    let h = histories.get(e.userId);
    if (!h) histories.set(e.userId, (h = { items: [], times: [] }));
    if (h.items[h.items.length - 1] === e.itemId) continue;
    h.items.push(e.itemId);
    h.times.push(e.time);
  }
  return histories;
}
