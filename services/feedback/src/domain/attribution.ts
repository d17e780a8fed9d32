/**
 * Joins what was shown (impressions) with what the same user did later (clicks,
 * add-to-carts, purchases of shown items), by event time. Pure and deterministic given its
 * inputs and the processing-time clock passed in; the Kafka/Redis adapter feeds it batches
 * and persists the users it changed.
 *
 * Rules (README, "Attribution"):
 * - An outcome event of user u on item x at event time t is attributed to the LATEST
 *   impression of u with time <= t, t - time <= window, that showed x. Ties on time go to the
 *   impression that arrived last. No such impression: unattributed.
 * - Each impression (request id) is counted once; each event (event id) is attributed once.
 *   Repeats of either are recognised while their ids are remembered (window + dedup time).
 * - Events wait in a per-user buffer until the impression watermark passes their time, so an
 *   impression that arrives after its click (other topic, other path) still gets it:
 *     impression watermark = newest impression time - allowed lateness, or, when no impression
 *     arrived for `idleMs` and the impressions consumer is caught up, the newest time seen on
 *     either stream (a quiet stream must not hold events forever).
 * - An impression's window closes when both watermarks have passed its time + window (the
 *   event watermark = newest event time - allowed lateness): its shown items without any
 *   outcome become skips and the impression is dropped. Events older than the event watermark are late beyond the
 *   allowed lateness: counted as late, still attributed when their impression is still held.
 * - An impression older than the impression watermark when it arrives is late: it is counted
 *   and can collect events not yet attributed, but an event already attributed elsewhere (or
 *   found unattributed) is not moved.
 */

export type OutcomeKind = 'click' | 'add_to_cart' | 'purchase';

const KIND_BIT: Record<OutcomeKind, number> = { click: 1, add_to_cart: 2, purchase: 4 };

export interface ImpressionInput {
  requestId: string;
  /** Pseudonymized; empty for anonymous requests (counted, never joined). */
  userId: string;
  /** Event time, ms since the epoch. */
  time: number;
  modelVersion: string;
  arm: string;
  surface: number;
  items: { itemId: string; position: number }[];
}

export interface EventInput {
  eventId: string;
  userId: string;
  itemId: string;
  kind: OutcomeKind;
  /** Event time, ms since the epoch. */
  time: number;
  /** Purchases: price * quantity; 0 otherwise. */
  revenue: number;
}

export interface ShownItemState {
  itemId: string;
  position: number;
  /** Bits of the outcome kinds attributed to this item so far. */
  mask: number;
}

export interface OpenImpression {
  requestId: string;
  time: number;
  modelVersion: string;
  arm: string;
  surface: number;
  items: ShownItemState[];
}

/** One user's state: what the adapter persists per user. */
export interface UserState {
  /** Impressions whose window is open, ascending by time (arrival order on ties). */
  impressions: OpenImpression[];
  /** Outcome events waiting for the impression watermark, ascending by time. */
  pending: EventInput[];
  /** Ids seen recently ("i:" + request id, "e:" + event id) → their event time, to drop repeats. */
  seen: Record<string, number>;
}

export interface Marks {
  maxImpressionTime: number;
  maxEventTime: number;
}

export type Effect =
  | { type: 'impression'; userId: string; impression: OpenImpression; late: boolean }
  | {
      type: 'outcome';
      userId: string;
      impression: OpenImpression;
      item: { itemId: string; position: number };
      kind: OutcomeKind;
      event: EventInput;
      /** First outcome of this kind for the impression (any item): counts toward its rate. */
      firstForImpression: boolean;
    }
  | { type: 'skip'; userId: string; impression: OpenImpression; item: { itemId: string; position: number } }
  | { type: 'unattributed'; event: EventInput }
  | { type: 'duplicate'; stream: 'impression' | 'event'; id: string }
  | { type: 'late'; stream: 'impression' | 'event'; id: string }
  | { type: 'evicted'; userId: string; impression: OpenImpression };

export interface AttributionOptions {
  /** Attribution window: event time - impression time at most this. */
  windowMs: number;
  /** How far behind the newest time of a stream an input may arrive and still be on time. */
  allowedLatenessMs: number;
  /** Processing time without impressions after which the impression watermark catches up. */
  idleMs: number;
  /** How long ids are remembered after their window closed, to drop repeats. */
  dedupMs: number;
  /** Newest impressions kept per user; older ones are evicted unclosed (bounds memory). */
  maxImpressionsPerUser: number;
}

export const DEFAULT_ATTRIBUTION: AttributionOptions = {
  windowMs: 30 * 60_000,
  allowedLatenessMs: 10_000,
  idleMs: 5_000,
  dedupMs: 10 * 60_000,
  maxImpressionsPerUser: 200,
};

/** Windows close (and ids are forgotten) up to this much event time late: the visit schedule's resolution. */
export const CLOSE_GRANULARITY_MS = 1000;

const emptyUser = (): UserState => ({ impressions: [], pending: [], seen: {} });

export class Attributor {
  private readonly users = new Map<string, UserState>();
  private readonly pendingUsers = new Set<string>();
  private readonly dirty = new Set<string>();
  private marks: Marks = { maxImpressionTime: -Infinity, maxEventTime: -Infinity };
  private lastImpressionArrival = -Infinity;
  /**
   * When users need a visit (a window closes, a remembered id expires), by CLOSE_GRANULARITY_MS
   * slot: a close pass visits only the users due, not every user.
   */
  private readonly visits = new Map<number, Set<string>>();
  private nextVisit = Infinity;

  constructor(
    readonly options: AttributionOptions,
    restored?: { marks: Marks; users: Iterable<[string, UserState]>; now: number },
  ) {
    if (restored) {
      this.marks = { ...restored.marks };
      // A restart counts as an arrival: give late impressions their idle time again.
      this.lastImpressionArrival = restored.now;
      for (const [userId, state] of restored.users) {
        this.users.set(userId, state);
        if (state.pending.length) this.pendingUsers.add(userId);
        for (const imp of state.impressions) this.schedule(userId, imp.time + options.windowMs);
        for (const time of Object.values(state.seen)) this.schedule(userId, this.forgetAt(time));
      }
    }
  }

  get currentMarks(): Marks {
    return { ...this.marks };
  }

  get userCount(): number {
    return this.users.size;
  }

  get pendingCount(): number {
    let n = 0;
    for (const u of this.pendingUsers) n += this.users.get(u)?.pending.length ?? 0;
    return n;
  }

  user(userId: string): UserState | undefined {
    return this.users.get(userId);
  }

  /** Events at or before this time are attributed (their impressions are all in). */
  impressionWatermark(now: number, impressionsCaughtUp = true): number {
    const { maxImpressionTime, maxEventTime } = this.marks;
    if (impressionsCaughtUp && now - this.lastImpressionArrival >= this.options.idleMs)
      return Math.max(maxImpressionTime, maxEventTime);
    return maxImpressionTime - this.options.allowedLatenessMs;
  }

  /** Events before this time are late beyond the allowed lateness; windows ending before it close. */
  eventWatermark(): number {
    return this.marks.maxEventTime - this.options.allowedLatenessMs;
  }

  addImpression(imp: ImpressionInput, now: number): Effect[] {
    const late = imp.time < this.impressionWatermark(now, false);
    this.lastImpressionArrival = now;
    const open: OpenImpression = {
      requestId: imp.requestId,
      time: imp.time,
      modelVersion: imp.modelVersion,
      arm: imp.arm,
      surface: imp.surface,
      items: imp.items.map((i) => ({ itemId: i.itemId, position: i.position, mask: 0 })),
    };
    if (!imp.userId) {
      this.marks.maxImpressionTime = Math.max(this.marks.maxImpressionTime, imp.time);
      return [{ type: 'impression', userId: '', impression: open, late }];
    }
    const state = this.users.get(imp.userId) ?? emptyUser();
    const key = `i:${imp.requestId}`;
    if (key in state.seen) return [{ type: 'duplicate', stream: 'impression', id: imp.requestId }];
    this.marks.maxImpressionTime = Math.max(this.marks.maxImpressionTime, imp.time);
    this.users.set(imp.userId, state);
    this.dirty.add(imp.userId);
    state.seen[key] = imp.time;
    const effects: Effect[] = [{ type: 'impression', userId: imp.userId, impression: open, late }];
    if (late) effects.push({ type: 'late', stream: 'impression', id: imp.requestId });
    // Sorted insert; after equal times so that the later arrival wins ties.
    let at = state.impressions.length;
    while (at > 0 && state.impressions[at - 1].time > imp.time) at--;
    state.impressions.splice(at, 0, open);
    this.schedule(imp.userId, imp.time + this.options.windowMs);
    this.schedule(imp.userId, this.forgetAt(imp.time));
    while (state.impressions.length > this.options.maxImpressionsPerUser) {
      effects.push({ type: 'evicted', userId: imp.userId, impression: state.impressions.shift()! });
    }
    return effects;
  }

  addEvent(ev: EventInput, _now: number): Effect[] {
    const state = this.users.get(ev.userId) ?? emptyUser();
    const key = `e:${ev.eventId}`;
    if (key in state.seen) return [{ type: 'duplicate', stream: 'event', id: ev.eventId }];
    const effects: Effect[] = [];
    if (ev.time < this.eventWatermark()) effects.push({ type: 'late', stream: 'event', id: ev.eventId });
    this.marks.maxEventTime = Math.max(this.marks.maxEventTime, ev.time);
    this.users.set(ev.userId, state);
    this.dirty.add(ev.userId);
    state.seen[key] = ev.time;
    this.schedule(ev.userId, this.forgetAt(ev.time));
    let at = state.pending.length;
    while (at > 0 && state.pending[at - 1].time > ev.time) at--;
    state.pending.splice(at, 0, ev);
    this.pendingUsers.add(ev.userId);
    return effects;
  }

  /** An event that is not an outcome (view, search) still moves the event watermark. */
  observeEventTime(time: number): void {
    this.marks.maxEventTime = Math.max(this.marks.maxEventTime, time);
  }

  /**
   * Attributes every buffered event the impression watermark has passed, then closes the
   * windows the event watermark has passed. Call after each batch and on a timer.
   */
  advance(now: number, impressionsCaughtUp = true): Effect[] {
    const effects: Effect[] = [];
    const wmI = this.impressionWatermark(now, impressionsCaughtUp);
    for (const userId of this.pendingUsers) {
      const state = this.users.get(userId)!;
      let done = 0;
      while (done < state.pending.length && state.pending[done].time <= wmI) {
        effects.push(this.attribute(userId, state, state.pending[done]));
        done++;
      }
      if (done > 0) {
        state.pending.splice(0, done);
        this.dirty.add(userId);
      }
      if (state.pending.length === 0) this.pendingUsers.delete(userId);
    }
    // A window closes once no event inside it can still come on time (event watermark) and
    // every event inside it that came has been attributed (impression watermark).
    const closeMark = Math.min(this.eventWatermark(), wmI);
    if (closeMark >= this.nextVisit) effects.push(...this.closeWindows(closeMark));
    return effects;
  }

  private attribute(userId: string, state: UserState, ev: EventInput): Effect {
    const { windowMs } = this.options;
    for (let i = state.impressions.length - 1; i >= 0; i--) {
      const imp = state.impressions[i];
      if (imp.time > ev.time) continue;
      if (ev.time - imp.time > windowMs) break;
      const shown = imp.items.find((s) => s.itemId === ev.itemId);
      if (!shown) continue;
      const bit = KIND_BIT[ev.kind];
      const firstForImpression = !imp.items.some((s) => s.mask & bit);
      shown.mask |= bit;
      return {
        type: 'outcome',
        userId,
        impression: imp,
        item: { itemId: shown.itemId, position: shown.position },
        kind: ev.kind,
        event: ev,
        firstForImpression,
      };
    }
    return { type: 'unattributed', event: ev };
  }

  /** When a remembered id of this event time may be forgotten. */
  private forgetAt(time: number): number {
    return time + this.options.windowMs + this.options.dedupMs;
  }

  private schedule(userId: string, time: number): void {
    const slot = Math.floor(time / CLOSE_GRANULARITY_MS);
    let users = this.visits.get(slot);
    if (!users) this.visits.set(slot, (users = new Set()));
    users.add(userId);
    // A slot is visited once the mark has passed all of it.
    this.nextVisit = Math.min(this.nextVisit, (slot + 1) * CLOSE_GRANULARITY_MS);
  }

  private closeWindows(closeMark: number): Effect[] {
    const effects: Effect[] = [];
    const { windowMs } = this.options;
    const due = new Set<string>();
    let next = Infinity;
    for (const [slot, users] of this.visits) {
      const end = (slot + 1) * CLOSE_GRANULARITY_MS;
      if (end > closeMark) {
        next = Math.min(next, end);
        continue;
      }
      for (const u of users) due.add(u);
      this.visits.delete(slot);
    }
    this.nextVisit = next;
    for (const userId of due) {
      const state = this.users.get(userId);
      if (!state) continue;
      let closed = 0;
      while (closed < state.impressions.length && state.impressions[closed].time + windowMs < closeMark) {
        const imp = state.impressions[closed];
        for (const s of imp.items)
          if (s.mask === 0) effects.push({ type: 'skip', userId, impression: imp, item: s });
        closed++;
      }
      if (closed > 0) {
        state.impressions.splice(0, closed);
        this.dirty.add(userId);
      }
      for (const [id, time] of Object.entries(state.seen)) {
        if (this.forgetAt(time) < closeMark) {
          delete state.seen[id];
          this.dirty.add(userId);
        }
      }
      if (!state.impressions.length && !state.pending.length && !Object.keys(state.seen).length) {
        this.users.delete(userId);
        this.dirty.add(userId);
      }
    }
    return effects;
  }

  /** Users changed since the last call, with their state (undefined: deleted). */
  takeDirty(): Map<string, UserState | undefined> {
    const out = new Map<string, UserState | undefined>();
    for (const userId of this.dirty) out.set(userId, this.users.get(userId));
    this.dirty.clear();
    return out;
  }
}
