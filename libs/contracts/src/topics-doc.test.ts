import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderTopicsDoc } from './topics-doc';
import { TOPICS, topicNames } from './topics';

test('docs/topics.md is what the registry renders (run `pnpm --filter @reco/contracts docs:topics`)', () => {
  const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'topics.md'), 'utf8');
  assert.equal(doc, renderTopicsDoc());
});

test('topic names carry a schema version and take the per-run prefix', () => {
  for (const spec of Object.values(TOPICS)) assert.match(spec.name, /\.v\d+$/);
  assert.equal(topicNames('t1.').eventsClean, 't1.reco.events.clean.v1');
});
