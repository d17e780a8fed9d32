import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qualityGate } from './quality-gate';

const opts = { tolerance: 0.05, minCases: 10 };
const m = (ndcg10: number, cases = 100) => ({ ndcg10, hr10: 0, cases });

test('first version publishes; better or within tolerance publishes; worse beyond it is refused', () => {
  assert.equal(qualityGate(m(0.1), undefined, opts).publish, true);
  assert.equal(qualityGate(m(0.11), m(0.1), opts).publish, true);
  assert.equal(qualityGate(m(0.096), m(0.1), opts).publish, true);
  const refused = qualityGate(m(0.09), m(0.1), opts);
  assert.equal(refused.publish, false);
  assert.match(refused.reason, /0\.0900 < live 0\.1000/);
});

test('too small a holdout publishes nothing', () => {
  assert.equal(qualityGate(m(0.5, 3), undefined, opts).publish, false);
});
