#!/usr/bin/env node
// Generates TypeScript from ../../proto with buf + ts-proto. Output is not committed.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(pkg, 'src', 'gen');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const bin = (name) => join(pkg, 'node_modules', '.bin', name);
const template = {
  version: 'v2',
  plugins: [
    {
      local: bin('protoc-gen-ts_proto'),
      out,
      opt: [
        'outputServices=grpc-js',
        'esModuleInterop=true',
        'useDate=true',
        'forceLong=number',
        'env=node',
        'useOptionals=none',
        'outputPartialMethods=false',
        'exportCommonSymbols=false',
      ],
    },
  ],
};
execFileSync(bin('buf'), ['generate', '--template', JSON.stringify(template)], {
  cwd: join(pkg, '..', '..', 'proto'),
  stdio: 'inherit',
});
console.error(`generated TypeScript contracts into ${out}`);
