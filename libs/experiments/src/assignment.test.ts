import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { ArmAssigner, assignArm, bucketOf } from './assignment';
import { parseExperiment } from './config';

/** Pseudonyms shaped like ingest's: HMAC-SHA256 truncated to 32 hex chars. */
const pseudonym = (i: number) =>
  createHmac('sha256', 'test-key').update(`user-${i}`).digest('hex').slice(0, 32);

const experiment = parseExperiment({
  id: 'reco-ab-1',
  arms: [
    { name: 'popular', model: 'popular', share: 0.5 },
    { name: 'sasrec', model: 'live', share: 0.3 },
    { name: 'pinned', model: 'sasrec-20261128T101500Z', share: 0.2 },
  ],
});

test('assignment is stable: the same user gets the same arm every time and from every assigner', () => {
  const other = new ArmAssigner(parseExperiment(JSON.stringify(experiment)));
  for (let i = 0; i < 2000; i++) {
    const user = pseudonym(i);
    const arm = assignArm(experiment, user).name;
    assert.equal(assignArm(experiment, user).name, arm);
    assert.equal(other.assign(user).name, arm);
  }
  // Pinned values: a change of the hash would silently move users between arms.
  // printf 'salt\0user' | sha256sum: first 12 hex digits / 2^48.
  assert.equal(bucketOf('salt', 'user'), 0.9312046888440619);
  assert.equal(assignArm(experiment, pseudonym(1)).name, assignArm(experiment, pseudonym(1)).name);
});

test('over 100,000 users each arm gets its configured share within ±0.5 percentage points', () => {
  const counts = new Map<string, number>();
  const assigner = new ArmAssigner(experiment);
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const arm = assigner.assign(pseudonym(i)).name;
    counts.set(arm, (counts.get(arm) ?? 0) + 1);
  }
  for (const arm of experiment.arms) {
    const observed = (counts.get(arm.name) ?? 0) / n;
    // 0.005 is more than 3 standard errors (sqrt(0.25 / 100000) = 0.0016).
    assert.ok(Math.abs(observed - arm.share) < 0.005, `${arm.name}: ${observed} vs ${arm.share}`);
  }
});

test('a different salt reshuffles users independently of the first assignment', () => {
  const resalted = parseExperiment({ ...experiment, salt: 'reco-ab-2' });
  let same = 0;
  const n = 20_000;
  for (let i = 0; i < n; i++) {
    const user = pseudonym(i);
    if (assignArm(experiment, user).name === assignArm(resalted, user).name) same++;
  }
  // Independent assignments agree with probability 0.5² + 0.3² + 0.2² = 0.38.
  assert.ok(Math.abs(same / n - 0.38) < 0.02, `agreement ${same / n}`);
});

test('buckets are uniform in [0, 1)', () => {
  const deciles = new Array(10).fill(0);
  for (let i = 0; i < 50_000; i++) {
    const u = bucketOf('s', pseudonym(i));
    assert.ok(u >= 0 && u < 1);
    deciles[Math.floor(u * 10)]++;
  }
  for (const c of deciles) assert.ok(Math.abs(c / 50_000 - 0.1) < 0.01, `decile share ${c / 50_000}`);
});
