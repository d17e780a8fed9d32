import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Attributor, DEFAULT_ATTRIBUTION, type Effect } from './attribution';
import {
  compareArms,
  incrementsFrom,
  parseSeriesKey,
  rateSummary,
  seriesKey,
  zeroCounts,
} from './online-metrics';
import { outcomeOf } from './outcomes';
import { Outcome, OutcomeType } from '@reco/contracts';

const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);

function effectsOfSmallStream(): Effect[] {
  const a = new Attributor(DEFAULT_ATTRIBUTION);
  const effects: Effect[] = [];
  const imp = (requestId: string, userId: string, arm: string, at: number, items: string[]) =>
    effects.push(
      ...a.addImpression(
        {
          requestId,
          userId,
          time: T0 + at,
          modelVersion: 'm1',
          arm,
          surface: 1,
          items: items.map((itemId, position) => ({ itemId, position })),
        },
        0,
      ),
    );
  imp('r1', 'u1', 'a', 0, ['x', 'y']);
  imp('r2', 'u2', 'a', 70_000, ['y', 'z']);
  imp('r3', 'u3', 'b', 1000, ['x']);
  effects.push(
    ...a.addEvent(
      { eventId: 'e1', userId: 'u1', itemId: 'y', kind: 'click', time: T0 + 5000, revenue: 0 },
      0,
    ),
  );
  effects.push(
    ...a.addEvent(
      { eventId: 'e2', userId: 'u1', itemId: 'x', kind: 'click', time: T0 + 6000, revenue: 0 },
      0,
    ),
  );
  effects.push(
    ...a.addEvent(
      { eventId: 'e3', userId: 'u1', itemId: 'x', kind: 'purchase', time: T0 + 7000, revenue: 30 },
      0,
    ),
  );
  effects.push(...a.advance(60_000));
  return effects;
}

test('increments per bucket of the impression time and per series; coverage counts distinct shown items', () => {
  const inc = incrementsFrom(effectsOfSmallStream(), 60_000);
  const b0 = inc.counts.get(T0)!;
  assert.deepEqual(b0.get('m1|a'), {
    ...zeroCounts(),
    impressions: 1,
    clicked: 1,
    clicks: 2,
    purchased: 1,
    purchases: 1,
    revenue: 30,
  });
  assert.deepEqual(b0.get('m1|b'), { ...zeroCounts(), impressions: 1 });
  assert.deepEqual(inc.counts.get(T0 + 60_000)!.get('m1|a'), { ...zeroCounts(), impressions: 1 });
  assert.deepEqual([...inc.shown.get(T0)!.get('m1|a')!].sort(), ['x', 'y']);
  assert.deepEqual(parseSeriesKey(seriesKey('v|1', '')), { modelVersion: 'v_1', arm: '(none)' });
});

test('summaries: rates with intervals, revenue per mille, coverage; arms compared with the control', () => {
  const s = rateSummary(
    { ...zeroCounts(), impressions: 200, clicked: 20, purchased: 2, revenue: 50 },
    40,
    1000,
    0.95,
  );
  assert.equal(s.ctr.estimate, 0.1);
  assert.ok(s.ctr.low < 0.1 && s.ctr.high > 0.1);
  assert.equal(s.revenuePerMille, 250);
  assert.equal(s.coverage, 0.04);
  assert.equal(rateSummary(zeroCounts(), 0, 0, 0.95).coverage, null);

  const arms = new Map([
    ['control', { ...zeroCounts(), impressions: 80, clicked: 48 }],
    ['treatment', { ...zeroCounts(), impressions: 70, clicked: 56 }],
  ]);
  const ctr = compareArms(arms, 'control', 0.95).find((c) => c.metric === 'ctr')!;
  assert.equal(ctr.arm, 'treatment');
  assert.ok(Math.abs(ctr.difference.low - 0.0524) < 1e-4 && Math.abs(ctr.difference.high - 0.3339) < 1e-4);
  assert.ok(ctr.significant);
  assert.ok(Math.abs(ctr.relativeLift! - 0.2 / 0.6) < 1e-9);
  assert.deepEqual(compareArms(arms, 'missing', 0.95), []);
});

test('labeled outcomes: one per attributed event, skips for the rest; ids are deterministic; binary round trip', () => {
  const a = new Attributor(DEFAULT_ATTRIBUTION);
  const effects = [
    ...a.addImpression(
      {
        requestId: 'r1',
        userId: 'u1',
        time: T0,
        modelVersion: 'm1',
        arm: 'a',
        surface: 1,
        items: [
          { itemId: 'x', position: 0 },
          { itemId: 'y', position: 1 },
        ],
      },
      0,
    ),
    ...a.addEvent(
      { eventId: 'e1', userId: 'u1', itemId: 'y', kind: 'purchase', time: T0 + 1000, revenue: 12.5 },
      0,
    ),
    ...a.addEvent(
      { eventId: 'far', userId: 'u2', itemId: 'q', kind: 'click', time: T0 + 3_600_000, revenue: 0 },
      0,
    ),
  ];
  effects.push(...a.advance(10_000));
  const outcomes = effects.map(outcomeOf).filter((o) => o !== null);
  assert.deepEqual(
    outcomes.map((o) => [o.outcomeId, o.type, o.position, o.revenue]),
    [
      ['r1/y/purchase/e1', OutcomeType.OUTCOME_TYPE_PURCHASE, 1, 12.5],
      ['r1/x/skip/', OutcomeType.OUTCOME_TYPE_SKIP, 0, 0],
    ],
  );
  const decoded = Outcome.decode(Outcome.encode(outcomes[0]).finish());
  assert.equal(decoded.experimentArm, 'a');
  assert.equal(decoded.modelVersion, 'm1');
  assert.equal(decoded.eventTime!.getTime(), T0 + 1000);
  assert.equal(decoded.impressionTime!.getTime(), T0);
});
