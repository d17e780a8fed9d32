import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventType } from '@reco/contracts';
import { buildHistories } from './histories';

test('histories keep log order, skip searches and impressions, and fold immediate repeats', () => {
  const ev = (userId: string, itemId: string, type: EventType, time: number) => ({
    userId,
    itemId,
    type,
    time,
  });
  const h = buildHistories([
    ev('u1', 'a', EventType.EVENT_TYPE_VIEW, 1),
    ev('u1', 'a', EventType.EVENT_TYPE_CLICK, 2),
    ev('u2', 'x', EventType.EVENT_TYPE_VIEW, 3),
    ev('u1', '', EventType.EVENT_TYPE_SEARCH, 4),
    ev('u1', 'b', EventType.EVENT_TYPE_ADD_TO_CART, 5),
    ev('u1', 'z', EventType.EVENT_TYPE_IMPRESSION, 6),
    ev('u1', 'a', EventType.EVENT_TYPE_PURCHASE, 7),
  ]);
  assert.deepEqual(h.get('u1'), { items: ['a', 'b', 'a'], times: [1, 5, 7] });
  assert.deepEqual(h.get('u2'), { items: ['x'], times: [3] });
});
