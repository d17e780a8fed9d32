#!/usr/bin/env node
// Runs node:test over compiled tests (dist/**/*.test.js; *.int.test.js are integration tests).
// Node 20's `--test` takes no globs, so the files are found here.
// Usage: node scripts/run-node-tests.mjs [unit|integration|all] [package dir ...]
// (no dirs: the current folder). All files run in one node:test process, so one summary
// closes the output.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const kind = process.argv[2] ?? 'all';
const dirs = process.argv.length > 3 ? process.argv.slice(3) : [process.cwd()];
const files = [];
const walk = (dir, files) => {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, files);
    else if (name.endsWith('.test.js')) {
      const integration = name.endsWith('.int.test.js');
      if (kind === 'all' || (kind === 'integration') === integration) files.push(path);
    }
  }
};
for (const dir of dirs) {
  const found = [];
  walk(join(dir, 'dist'), found);
  files.push(...found.sort());
}
if (files.length === 0) {
  console.log(`no ${kind} tests in ${dirs.join(', ')}`);
  process.exit(0);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=1', '--enable-source-maps', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
