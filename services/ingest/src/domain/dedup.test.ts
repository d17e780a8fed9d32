import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifySighting, confirmedMark, positionPrefix, sourcePosition } from './dedup';

test('first sighting, replay of the same position, duplicate from elsewhere', () => {
  const pos = sourcePosition('raw', 2, '41');
  assert.equal(pos, 'raw/2/41');
  assert.equal(positionPrefix('raw', 2) + '41', pos, 'a position is its prefix plus the offset');
  assert.equal(classifySighting(null, pos), 'first');
  assert.equal(classifySighting('raw/2/41', pos), 'replay');
  assert.equal(classifySighting('raw/0/7', pos), 'duplicate');
  assert.equal(classifySighting(confirmedMark(pos), pos), 'duplicate', 'committed once: never again');
  assert.equal(confirmedMark(pos), 'raw/2/41#committed');
});
