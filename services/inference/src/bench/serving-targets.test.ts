import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servingTargets, type StepResult } from './serving-targets';

const step = (target: string, rate: number, p99: number, errors = 0): StepResult => ({
  target,
  rate,
  p99,
  errors,
});

test('target 1 compares the p99s at 1,000/s and needs zero errors', () => {
  const met = servingTargets([step('floor', 1000, 16.78), step('recommend', 1000, 21.14)]);
  assert.deepEqual(met.p99AtThousand, { floor: 16.78, recommend: 21.14, ratio: 1.26, errors: 0, met: true });
  assert.equal(
    servingTargets([step('floor', 1000, 10), step('recommend', 1000, 20.5)]).p99AtThousand?.met,
    false,
  );
  assert.equal(
    servingTargets([step('floor', 1000, 10), step('recommend', 1000, 20)]).p99AtThousand?.met,
    true,
  );
  assert.equal(
    servingTargets([step('floor', 1000, 10), step('recommend', 1000, 12, 1)]).p99AtThousand?.met,
    false,
  );
  assert.equal(servingTargets([step('floor', 500, 10), step('recommend', 500, 12)]).p99AtThousand, undefined);
});

test('target 2 takes each side highest step under 50 ms with zero errors', () => {
  // S11 of docs/benchmarks.md: the floor holds 4,000/s, Recommend 1,000/s
  const s11 = [
    step('floor', 500, 10.63),
    step('recommend', 500, 21.27),
    step('floor', 1000, 16.78),
    step('recommend', 1000, 21.14),
    step('floor', 2000, 21.98),
    step('recommend', 2000, 273.87),
    step('floor', 4000, 34.21),
    step('recommend', 4000, 4992.64, 69319),
  ];
  assert.deepEqual(servingTargets(s11).highestUnder50ms, {
    floor: 4000,
    recommend: 1000,
    topRate: 4000,
    met: false,
  });
  // S6: the floor's highest was 2,000/s, so 1,000/s is enough
  const s6 = s11.map((s) => (s.target === 'floor' && s.rate === 4000 ? { ...s, p99: 93.72 } : s));
  assert.deepEqual(servingTargets(s6).highestUnder50ms, {
    floor: 2000,
    recommend: 1000,
    topRate: 4000,
    met: true,
  });
  // a step with errors does not count, however fast its answers were
  const failing = [step('floor', 500, 10), step('recommend', 500, 10, 3)];
  assert.deepEqual(servingTargets(failing).highestUnder50ms, {
    floor: 500,
    recommend: 0,
    topRate: 500,
    met: false,
  });
  assert.equal(servingTargets([step('floor', 500, 60)]).highestUnder50ms.met, undefined);
});
