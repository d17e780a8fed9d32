#!/usr/bin/env node
// Interim: generates src/gen/reco/v1/outcome.ts from proto/reco/v1/outcome.proto with the same
// buf + ts-proto options as @reco/contracts, until the message moves into the root proto/.
// Imports of the shared messages are rewritten to @reco/contracts.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(pkg, '..', '..');
const contracts = join(root, 'libs', 'contracts');
const work = mkdtempSync(join(tmpdir(), 'feedback-gen-'));
try {
  cpSync(join(root, 'proto'), join(work, 'proto'), { recursive: true });
  cpSync(
    join(pkg, 'proto', 'reco', 'v1', 'outcome.proto'),
    join(work, 'proto', 'reco', 'v1', 'outcome.proto'),
  );
  const out = join(work, 'out');
  const bin = (name) => join(contracts, 'node_modules', '.bin', name);
  const template = {
    version: 'v2',
    plugins: [
      {
        local: bin('protoc-gen-ts_proto'),
        out,
        opt: [
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
  execFileSync(
    bin('buf'),
    ['generate', '--template', JSON.stringify(template), '--path', 'reco/v1/outcome.proto'],
    {
      cwd: join(work, 'proto'),
      stdio: 'inherit',
    },
  );
  const code = readFileSync(join(out, 'reco', 'v1', 'outcome.ts'), 'utf8')
    .replace(
      'from "../../google/protobuf/timestamp"',
      'from "@reco/contracts/dist/gen/google/protobuf/timestamp"',
    )
    .replace('from "./impression"', 'from "@reco/contracts"');
  writeFileSync(join(pkg, 'src', 'gen', 'reco', 'v1', 'outcome.ts'), code);
  console.error('generated src/gen/reco/v1/outcome.ts');
} finally {
  rmSync(work, { recursive: true, force: true });
}
