import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
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

test("docker-compose.yml starts each service with its start script's Node flags", () => {
  const repo = join(__dirname, '..', '..', '..');
  const compose = parse(readFileSync(join(repo, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { command?: string[] }>;
  };
  const checked: string[] = [];
  for (const [name, { command }] of Object.entries(compose.services)) {
    const main = `services/${name}/dist/main.js`;
    if (command?.[0] !== 'node' || command[command.length - 1] !== main) continue;
    assert.deepEqual(command.slice(1, -1), serviceNodeFlags(join(repo, 'services', name)), name);
    checked.push(name);
  }
  // the services whose start scripts carry V8 flags must be among those compared
  for (const name of ['ingest', 'inference']) assert.ok(checked.includes(name), `${name} not compared`);
});
