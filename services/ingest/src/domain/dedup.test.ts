import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifySighting, positionPrefix, sourcePosition, watermarkAfter } from './dedup';

test('first sighting, replay of the same position, duplicate from elsewhere or once committed', () => {
  const pos = sourcePosition('raw', 2, '41');
  assert.equal(pos, 'raw/2/41');
  assert.equal(positionPrefix('raw', 2) + '41', pos, 'a position is its prefix plus the offset');
  assert.equal(classifySighting(null, pos, 0n), 'first');
  assert.equal(classifySighting('raw/2/41', pos, 0n), 'replay', 'its transaction never committed');
  assert.equal(classifySighting('raw/2/41', pos, 41n), 'replay', 'committed only below 41');
  assert.equal(classifySighting('raw/2/41', pos, 42n), 'duplicate', 'committed once: never again');
  assert.equal(classifySighting('raw/0/7', pos, 0n), 'duplicate');
  assert.equal(
    classifySighting('raw/2/41#committed', pos, 0n),
    'duplicate',
    "earlier versions' confirmed mark",
  );
});

test("a batch's watermark is the offset after its last claimed event", () => {
  const events = (offsets: string[]) => ({ topic: 'raw', partition: 1, eventIds: offsets, offsets });
  assert.deepEqual(watermarkAfter(events(['7', '9', '12'])), { topic: 'raw', partition: 1, nextOffset: 13n });
  assert.equal(watermarkAfter(events([])), undefined);
});
