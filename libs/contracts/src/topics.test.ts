import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONTENT_TYPE_PROTOBUF, TOPICS, recordHeaders, type TopicId } from './topics';

test('recordHeaders follows each topic spec: none, a protobuf content-type, or refused for raw topics', () => {
  assert.deepEqual(recordHeaders('eventsClean'), {});
  assert.deepEqual(recordHeaders('impressions'), {});
  assert.deepEqual(recordHeaders('outcomes'), { 'content-type': CONTENT_TYPE_PROTOBUF });
  assert.throws(() => recordHeaders('clickstreamRaw'), /reco\.clickstream\.raw\.v1: its producer chooses/);
  for (const id of Object.keys(TOPICS) as TopicId[]) {
    const kind = TOPICS[id].headers;
    if (kind === 'by producer') continue;
    const headers = recordHeaders(id);
    assert.equal(Object.keys(headers).length, kind === 'none' ? 0 : 1, id);
    // shared by every record of a producer: nobody may change it
    assert.ok(Object.isFrozen(headers), id);
  }
});
