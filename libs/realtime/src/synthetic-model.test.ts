import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

test('a synthetic model is a real artifact while its writer runs and is removed when the writer exits', () => {
  // The writer is a process of its own: removal happens at that process's exit. Its last
  // output line is the result (TensorFlow's loader logs before it).
  const script = `
    const { existsSync } = require('node:fs');
    const { writeSyntheticModel } = require(${JSON.stringify(join(__dirname, 'synthetic-model.js'))});
    writeSyntheticModel('exit-test', { numItems: 20, dim: 8, seed: 1 }).then(({ dir }) => {
      process.stdout.write('\\n' + JSON.stringify({ dir, manifest: existsSync(require('node:path').join(dir, 'manifest.json')) }));
    });
  `;
  const lines = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim().split('\n');
  const out = JSON.parse(lines.at(-1)!) as {
    dir: string;
    manifest: boolean;
  };
  assert.ok(out.manifest, `the writer saw ${out.dir}/manifest.json`);
  assert.equal(existsSync(dirname(out.dir)), false, `${dirname(out.dir)} removed at exit`);
});
