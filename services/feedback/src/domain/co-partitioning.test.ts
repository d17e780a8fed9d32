import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coPartitionedAssignment } from './co-partitioning';

test('partition p of every topic goes to the same member', () => {
  const a = coPartitionedAssignment(['m2', 'm1'], { imps: 6, events: 6 });
  assert.deepEqual(a, {
    m1: { imps: [0, 2, 4], events: [0, 2, 4] },
    m2: { imps: [1, 3, 5], events: [1, 3, 5] },
  });
  assert.deepEqual(coPartitionedAssignment(['m1'], { imps: 2, events: 3 }), {
    m1: { imps: [0, 1], events: [0, 1, 2] },
  });
  assert.deepEqual(coPartitionedAssignment([], { imps: 2 }), {});
});
