import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Attributor,
  DEFAULT_ATTRIBUTION,
  type AttributionOptions,
  type Effect,
  type EventInput,
  type ImpressionInput,
  type OutcomeKind,
} from './attribution';

const S = 1000;
const MIN = 60 * S;
const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);
const OPTIONS: AttributionOptions = {
  ...DEFAULT_ATTRIBUTION,
  windowMs: 30 * MIN,
  allowedLatenessMs: 10 * S,
  idleMs: 5 * S,
};

const imp = (requestId: string, at: number, items: string[], userId = 'u1', arm = 'a'): ImpressionInput => ({
  requestId,
  userId,
  time: T0 + at,
  modelVersion: 'm1',
  arm,
  surface: 1,
  items: items.map((itemId, position) => ({ itemId, position })),
});
const ev = (
  eventId: string,
  at: number,
  itemId: string,
  kind: OutcomeKind = 'click',
  userId = 'u1',
  revenue = 0,
): EventInput => ({
  eventId,
  userId,
  itemId,
  kind,
  time: T0 + at,
  revenue,
});

type Step = ImpressionInput | EventInput | { advance: number; caughtUp?: boolean };

/** Feeds a sequence; each input arrives 1 ms of processing time after the previous one (no idle gaps). */
function run(steps: Step[], options = OPTIONS, attributor = new Attributor(options)) {
  const effects: Effect[] = [];
  let now = 0;
  for (const step of steps) {
    now += 1;
    if ('advance' in step) {
      now += step.advance;
      effects.push(...attributor.advance(now, step.caughtUp ?? true));
    } else if ('requestId' in step) {
      effects.push(...attributor.addImpression(step, now));
      effects.push(...attributor.advance(now));
    } else {
      effects.push(...attributor.addEvent(step, now));
      effects.push(...attributor.advance(now));
    }
  }
  return { attributor, effects, tally: tally(effects) };
}

function tally(effects: Effect[]) {
  const t = {
    impressions: 0,
    clicked: 0,
    carted: 0,
    purchased: 0,
    outcomes: [] as string[],
    revenue: 0,
    unattributed: [] as string[],
    duplicates: 0,
    late: [] as string[],
    skips: [] as string[],
  };
  for (const e of effects) {
    if (e.type === 'impression') t.impressions++;
    else if (e.type === 'outcome') {
      t.outcomes.push(`${e.event.eventId}->${e.impression.requestId}/${e.item.itemId}@${e.item.position}`);
      if (e.firstForImpression) {
        if (e.kind === 'click') t.clicked++;
        if (e.kind === 'add_to_cart') t.carted++;
        if (e.kind === 'purchase') t.purchased++;
      }
      t.revenue += e.event.revenue;
    } else if (e.type === 'unattributed') t.unattributed.push(e.event.eventId);
    else if (e.type === 'duplicate') t.duplicates++;
    else if (e.type === 'late') t.late.push(e.id);
    else if (e.type === 'skip') t.skips.push(`${e.impression.requestId}/${e.item.itemId}`);
  }
  return t;
}

/** Drives both watermarks far past everything before: closes all windows. */
const flush = (): Step[] => [ev('far-future', 2 * 30 * MIN, 'none', 'click', 'other'), { advance: 10 * S }];

test('click, add-to-cart and purchase of a shown item inside the window are attributed; the rest of the items are skips', () => {
  const { tally: t } = run([
    imp('r1', 0, ['x', 'y', 'z']),
    ev('c1', 1 * MIN, 'x'),
    ev('a1', 2 * MIN, 'x', 'add_to_cart'),
    ev('p1', 3 * MIN, 'x', 'purchase', 'u1', 25.5),
    ...flush(),
  ]);
  assert.equal(t.impressions, 1);
  assert.deepEqual([t.clicked, t.carted, t.purchased], [1, 1, 1]);
  assert.deepEqual(t.outcomes, ['c1->r1/x@0', 'a1->r1/x@0', 'p1->r1/x@0']);
  assert.equal(t.revenue, 25.5);
  assert.deepEqual(t.skips, ['r1/y', 'r1/z']);
  assert.deepEqual(t.unattributed, ['far-future']);
});

test('the window is inclusive at 30 minutes and ends there; events before the impression, of other items or other users are not attributed', () => {
  const { tally: t } = run([
    imp('r1', 0, ['x', 'y']),
    ev('before', -1, 'x'),
    ev('edge', 30 * MIN, 'x'),
    ev('outside', 30 * MIN + 1, 'y'),
    ev('other-item', 1 * MIN, 'q'),
    ev('other-user', 1 * MIN, 'x', 'click', 'u2'),
    { advance: 10 * S },
  ]);
  assert.deepEqual(t.outcomes, ['edge->r1/x@0']);
  assert.deepEqual(t.unattributed.sort(), ['before', 'other-item', 'other-user', 'outside']);
});

test('an event goes to the latest earlier impression that showed the item, once, even when that impression arrives after the event', () => {
  // I1 and I2 both show x; the click at 6 s belongs to I2, which arrives after the click.
  // I3 (later, other items) moves the impression watermark past the click.
  const { tally: t } = run([
    imp('I1', 0, ['x', 'y']),
    ev('c1', 6 * S, 'x'),
    imp('I2', 5 * S, ['w', 'x']),
    imp('I3', 20 * S, ['x', 'v']),
    ...flush(),
  ]);
  assert.equal(t.impressions, 3);
  assert.deepEqual(t.outcomes, ['c1->I2/x@1']);
  assert.equal(t.clicked, 1);
  assert.deepEqual(t.late, []);
  assert.deepEqual(t.skips.sort(), ['I1/x', 'I1/y', 'I2/w', 'I3/v', 'I3/x']);
});

test('events out of order: each goes to the impression preceding it in event time, not in arrival order', () => {
  const { tally: t } = run([
    imp('I1', 0, ['x']),
    imp('I2', 2 * MIN, ['x']),
    ev('late-click', 1 * MIN, 'x'), // arrives after I2 but happened before it
    ev('click', 3 * MIN, 'x'),
    { advance: 10 * S },
  ]);
  assert.deepEqual(t.outcomes.sort(), ['click->I2/x@0', 'late-click->I1/x@0']);
  assert.equal(t.clicked, 2);
});

test('repeated impressions and events are counted once; two clicks on one impression count one clicked impression', () => {
  const { tally: t } = run([
    imp('r1', 0, ['x', 'y']),
    imp('r1', 0, ['x', 'y']),
    ev('c1', 1 * MIN, 'x'),
    ev('c1', 1 * MIN, 'x'),
    ev('c2', 2 * MIN, 'y'),
    { advance: 10 * S },
    ev('c1', 1 * MIN, 'x'), // a repeat after the first was attributed
  ]);
  assert.equal(t.impressions, 1);
  assert.equal(t.duplicates, 3);
  assert.deepEqual(t.outcomes, ['c1->r1/x@0', 'c2->r1/y@1']);
  assert.equal(t.clicked, 1, 'the impression was clicked (once)');
});

test('events wait for the impression watermark; a quiet impression stream releases them after the idle time, only when caught up', () => {
  const a = new Attributor(OPTIONS);
  a.addImpression(imp('r1', 0, ['x']), 0);
  a.addEvent(ev('c1', 1 * S, 'x'), 1);
  assert.deepEqual(a.advance(2), [], 'watermark -10 s: the click waits');
  assert.deepEqual(a.advance(10 * S, false), [], 'idle, but the impressions consumer is behind');
  const released = tally(a.advance(10 * S, true));
  assert.deepEqual(released.outcomes, ['c1->r1/x@0']);
  assert.equal(a.pendingCount, 0);
});

test('an impression later than the allowed lateness is counted but does not take an event already attributed', () => {
  const { tally: t } = run([
    imp('I1', 0, ['x']),
    ev('c1', 2 * MIN, 'x'),
    imp('I9', 5 * MIN, ['q']), // watermark now 4:50: c1 is attributed to I1
    imp('I2', 1 * MIN, ['x']), // shown at 1:00, arrives too late to take c1
    ev('c2', 3 * MIN, 'x'), // an event still to come goes to I2, the latest earlier one
    ...flush(),
  ]);
  assert.equal(t.impressions, 3);
  assert.deepEqual(t.late, ['I2']);
  assert.deepEqual(t.outcomes, ['c1->I1/x@0', 'c2->I2/x@0']);
});

test('an event later than the allowed lateness is flagged, and unattributed once its impression window has closed', () => {
  const { tally: t } = run([
    imp('r1', 0, ['x']),
    ev('other', 40 * MIN, 'z', 'click', 'u2'),
    { advance: 10 * S }, // event watermark 39:50 > 0 + 30 min: r1 closes
    ev('very-late', 1 * MIN, 'x'),
    { advance: 10 * S },
  ]);
  assert.deepEqual(t.skips, ['r1/x']);
  assert.deepEqual(t.late, ['very-late']);
  assert.deepEqual(t.unattributed.sort(), ['other', 'very-late']);
});

test('a hand-built stream gives exact counts per arm', () => {
  const steps: Step[] = [];
  // Arm a: 4 impressions, 2 clicked (one twice), 1 purchase. Arm b: 3 impressions, 1 click outside the window.
  steps.push(imp('a1', 0, ['i1', 'i2'], 'ua', 'a'), imp('a2', 10 * S, ['i3'], 'ub', 'a'));
  steps.push(imp('a3', 20 * S, ['i1'], 'uc', 'a'), imp('a4', 30 * S, ['i4'], 'ud', 'a'));
  steps.push(
    imp('b1', 0, ['i1'], 'ue', 'b'),
    imp('b2', 5 * S, ['i2'], 'uf', 'b'),
    imp('b3', 6 * S, ['i3'], 'ug', 'b'),
  );
  steps.push(ev('e1', 1 * MIN, 'i2', 'click', 'ua'), ev('e2', 2 * MIN, 'i1', 'click', 'ua'));
  steps.push(ev('e3', 3 * MIN, 'i3', 'click', 'ub'), ev('e4', 4 * MIN, 'i3', 'purchase', 'ub', 10));
  steps.push(ev('e5', 31 * MIN, 'i1', 'click', 'ue'), ev('e5', 31 * MIN, 'i1', 'click', 'ue'));
  steps.push({ advance: 10 * S });
  const { effects } = run(steps);
  const perArm = new Map<
    string,
    { impressions: number; clicked: number; purchased: number; revenue: number }
  >();
  for (const e of effects) {
    if (e.type !== 'impression' && e.type !== 'outcome') continue;
    const row = perArm.get(e.impression.arm) ?? { impressions: 0, clicked: 0, purchased: 0, revenue: 0 };
    perArm.set(e.impression.arm, row);
    if (e.type === 'impression') row.impressions++;
    else if (e.firstForImpression && e.kind === 'click') row.clicked++;
    else if (e.firstForImpression && e.kind === 'purchase') row.purchased++;
    if (e.type === 'outcome') row.revenue += e.event.revenue;
  }
  assert.deepEqual(perArm.get('a'), { impressions: 4, clicked: 2, purchased: 1, revenue: 10 });
  assert.deepEqual(perArm.get('b'), { impressions: 3, clicked: 0, purchased: 0, revenue: 0 });
});

test('state restored from what was persisted continues exactly: nothing lost, nothing counted twice', () => {
  const first = new Attributor(OPTIONS);
  first.addImpression(imp('r1', 0, ['x', 'y']), 0);
  first.addEvent(ev('c1', 1 * MIN, 'x'), 1);
  first.advance(2);
  const users = [...first.takeDirty()].filter((e): e is [string, NonNullable<(typeof e)[1]>] => !!e[1]);
  const restored = new Attributor(OPTIONS, {
    marks: first.currentMarks,
    users: JSON.parse(JSON.stringify(users)),
    now: 100,
  });
  const { tally: t } = run(
    [ev('c1', 1 * MIN, 'x'), imp('r1', 0, ['x', 'y']), ev('c2', 2 * MIN, 'y'), { advance: 10 * S }],
    OPTIONS,
    restored,
  );
  assert.equal(t.duplicates, 2, 'the replayed click and impression are recognised');
  assert.equal(t.impressions, 0);
  assert.deepEqual(t.outcomes.sort(), ['c1->r1/x@0', 'c2->r1/y@1']);
  assert.equal(t.clicked, 1, 'the impression was already clicked before the restart');
});

test('closed windows free the state; anonymous impressions are counted and never joined', () => {
  const { attributor, tally: t } = run([
    imp('anon', 0, ['x'], ''),
    imp('r1', 0, ['x']),
    ev('c1', 1 * MIN, 'x'),
    ev('far', 90 * MIN, 'x', 'click', 'u2'),
    { advance: 10 * S },
  ]);
  assert.equal(t.impressions, 2);
  assert.deepEqual(t.outcomes, ['c1->r1/x@0']);
  assert.equal(attributor.user('u1'), undefined, 'u1 dropped after its window and dedup time');
  assert.equal(attributor.userCount, 1, 'only u2 (its id is still remembered)');
});
