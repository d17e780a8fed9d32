#!/usr/bin/env node
// Runs node:test over the compiled tests of one package (dist/**/*.test.js).
// Node 20's `--test` takes no globs, so the files are found here.
// Usage (from a package folder): node ../../scripts/run-node-tests.mjs [unit|integration|all]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const kind = process.argv[2] ?? 'all';
const root = join(process.cwd(), 'dist');
const files = [];
const walk = (dir) => {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.js')) {
      const integration = name.endsWith('.int.test.js');
      if (kind === 'all' || (kind === 'integration') === integration) files.push(path);
    }
  }
};
walk(root);
if (files.length === 0) {
  console.log(`no ${kind} tests in ${process.cwd()}`);
  process.exit(0);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=1', '--enable-source-maps', ...files.sort()],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
