import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceNodeFlags } from './service-process';

const serviceWith = (start: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'svc-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: { start } }));
  return dir;
};

test("serviceNodeFlags reads the Node flags of a service's start script", () => {
  assert.deepEqual(
    serviceNodeFlags(serviceWith('node --max-semi-space-size=64 --no-warnings dist/main.js')),
    ['--max-semi-space-size=64', '--no-warnings'],
  );
  assert.deepEqual(serviceNodeFlags(serviceWith('node dist/main.js')), []);
  assert.throws(() => serviceNodeFlags(serviceWith('nest start')), /start script is not/);
  // the repository's own services
  assert.deepEqual(serviceNodeFlags(join(__dirname, '..', '..', '..', 'services', 'inference')), [
    '--max-semi-space-size=64',
    '--min-semi-space-size=64',
    '--no-allocation-site-pretenuring',
    '--heap-growing-percent=300',
    '--no-memory-reducer',
  ]);
});
