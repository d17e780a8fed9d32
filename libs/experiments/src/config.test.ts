import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_EXPERIMENT,
  ExperimentConfigError,
  armModel,
  experimentFromSettings,
  experimentSettings,
  parseExperiment,
} from './config';

const problems = (input: unknown): string[] => {
  try {
    parseExperiment(input);
  } catch (err) {
    assert.ok(err instanceof ExperimentConfigError);
    return err.problems;
  }
  assert.fail('expected an ExperimentConfigError');
};

test('a valid experiment gets its defaults: salt = id, control = first arm', () => {
  const e = parseExperiment(
    '{"id":"ab","arms":[{"name":"a","model":"popular","share":0.25},{"name":"b","model":"live","share":0.75}]}',
  );
  assert.equal(e.salt, 'ab');
  assert.equal(e.control, 'a');
  assert.deepEqual(armModel(e.arms[0]), { kind: 'popular' });
  assert.deepEqual(armModel(e.arms[1]), { kind: 'live' });
  assert.deepEqual(armModel({ name: 'x', model: 'sasrec-1', share: 1 }), {
    kind: 'version',
    version: 'sasrec-1',
  });
});

test('errors name the field', () => {
  assert.deepEqual(problems('{"id":'), [problems('{"id":')[0]]);
  assert.match(problems('{"id":')[0], /^not valid JSON/);
  assert.deepEqual(
    problems({
      id: 'x',
      arms: [
        { name: 'a', model: 'live', share: 0 },
        { name: 'b', model: '', share: 1 },
      ],
    }),
    ['arms[0].share: must be greater than 0', "arms[1].model: must be 'popular', 'live' or a model version"],
  );
  assert.deepEqual(
    problems({
      id: 'x',
      arms: [
        { name: 'a', model: 'live', share: 0.5 },
        { name: 'a', model: 'popular', share: 0.4 },
      ],
    }),
    ['arms[1].name: "a" is used twice', 'arms: shares add up to 0.9; they must add up to 1'],
  );
  assert.deepEqual(problems({ id: 'x', control: 'z', arms: [{ name: 'a', model: 'live', share: 1 }] }), [
    'control: "z" is not one of the arms (a)',
  ]);
  assert.deepEqual(problems({ id: 'x', arms: [] }), ['arms: needs at least one arm']);
  assert.match(
    problems({ id: 'x', arms: [{ name: 'a b', model: 'live', share: 1 }] })[0],
    /^arms\[0\]\.name: /,
  );
  assert.match(problems({ id: 'x', arms: [{ name: 'a', model: 'live', share: 1 }], shares: 1 })[0], /shares/);
});

test('as a service setting: the variable is named, unset means the default experiment', () => {
  const schema = z.object(experimentSettings);
  const bad = schema.safeParse({
    RECO_EXPERIMENT: '{"id":"x","arms":[{"name":"a","model":"live","share":2}]}',
  });
  assert.equal(bad.success, false);
  assert.deepEqual(bad.error!.issues[0].path, ['RECO_EXPERIMENT']);
  assert.match(bad.error!.issues[0].message, /^arms\[0\]\.share: must be at most 1/);
  assert.deepEqual(experimentFromSettings(schema.parse({})), DEFAULT_EXPERIMENT);

  const dir = mkdtempSync(join(tmpdir(), 'exp-'));
  const file = join(dir, 'experiment.json');
  writeFileSync(file, JSON.stringify({ id: 'f', arms: [{ name: 'only', model: 'live', share: 1 }] }));
  assert.equal(experimentFromSettings(schema.parse({ RECO_EXPERIMENT_FILE: file })).id, 'f');
  writeFileSync(file, '{"id":"f","arms":[]}');
  assert.throws(
    () => experimentFromSettings({ RECO_EXPERIMENT_FILE: file }),
    /RECO_EXPERIMENT_FILE .*experiment\.json: arms: needs at least one arm/,
  );
});
