import { test } from 'node:test';
import assert from 'node:assert/strict';
import { differenceInterval, normalCdf, twoProportionTest, wilson, zFor } from './stats';

const close = (actual: number, expected: number, tol = 1e-4) =>
  assert.ok(Math.abs(actual - expected) < tol, `${actual} is not ${expected}`);

test('normal quantile and cdf', () => {
  close(zFor(0.95), 1.959964, 1e-6);
  close(normalCdf(1.959964), 0.975, 1e-6);
  close(normalCdf(-1), 0.158655, 1e-6);
});

test('Wilson interval matches Newcombe (1998), table I', () => {
  const w = wilson(81, 263);
  close(w.low, 0.2553);
  close(w.high, 0.3662);
  const zero = wilson(0, 10);
  assert.equal(zero.low, 0);
  close(zero.high, 0.2775);
  assert.deepEqual(wilson(0, 0), { estimate: 0, low: 0, high: 1 });
});

test('difference interval matches Newcombe (1998), method 10', () => {
  // 56/70 vs 48/80: difference 0.2000, 95% interval 0.0524 to 0.3339.
  const d = differenceInterval(48, 80, 56, 70);
  close(d.estimate, 0.2);
  close(d.low, 0.0524);
  close(d.high, 0.3339);
});

test('two-proportion z test', () => {
  const t = twoProportionTest(48, 80, 56, 70);
  close(t.z, 2.6502, 1e-3); // pooled p = 104/150, se = 0.075467
  close(t.pValue, 0.00804, 1e-4);
  assert.deepEqual(twoProportionTest(0, 0, 1, 2), { z: 0, pValue: 1 });
});
