import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(__dirname, 'cli.js');
const dir = mkdtempSync(join(tmpdir(), 'reco-cli-'));
const lines: string[] = [];
for (let u = 1; u <= 30; u++)
  lines.push(`${u} ${[1, 2, 3, 4, 5, 6].map((k) => ((u * k) % 40) + 1).join(' ')}`);
writeFileSync(join(dir, 'tiny.seq.txt'), lines.join('\n') + '\n');

function reco(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, INIT_CWD: '', RECO_EVAL_PLUGINS: '', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const KEYS = [
  'model',
  'dataset',
  'protocol',
  'users',
  'items',
  'HR@5',
  'HR@10',
  'HR@20',
  'NDCG@5',
  'NDCG@10',
  'NDCG@20',
  'MRR',
  'coverage@10',
  'train_seconds',
  'eval_seconds',
  'seed',
];

test('--json prints exactly one JSON object; relative --data resolves against the cwd', () => {
  for (const model of ['popular', 'itemknn']) {
    for (const protocol of ['full', 'sampled100']) {
      const r = reco([
        'evaluate',
        '--data',
        'tiny.seq.txt',
        '--format',
        'seq',
        '--protocol',
        protocol,
        '--model',
        model,
        '--seed',
        '3',
        '--json',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout.trim();
      assert.equal(out.split('\n').length, 1);
      const obj = JSON.parse(out) as Record<string, unknown>;
      assert.deepEqual(Object.keys(obj), KEYS);
      assert.equal(obj.model, model);
      assert.equal(obj.dataset, 'tiny.seq.txt');
      assert.equal(obj.protocol, protocol);
      assert.equal(obj.users, 30);
      assert.equal(obj.seed, 3);
      assert.match(r.stderr, /evaluate/); // progress on stderr
    }
  }
});

test('models not registered yet give a clear "not available" error', () => {
  for (const model of ['sasrec', 'served']) {
    const r = reco(['evaluate', '--data', 'tiny.seq.txt', '--model', model, '--json']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`model '${model}' .*is not available`));
  }
  const r = reco(['evaluate', '--data', 'tiny.seq.txt', '--model', 'nope']);
  assert.match(r.stderr, /unknown model 'nope' \(--model\)/);
});

test('argument errors name the flag', () => {
  const cases: [string[], RegExp][] = [
    [['evaluate', '--model', 'popular'], /--data is required/],
    [['evaluate', '--data', 'tiny.seq.txt'], /--model is required/],
    [
      ['evaluate', '--data', 'tiny.seq.txt', '--model', 'popular', '--protocol', 'sampled'],
      /--protocol: 'sampled' is not one of full, sampled100/,
    ],
    [['evaluate', '--data', 'tiny.seq.txt', '--model', 'popular', '--format', 'csv'], /--format: 'csv'/],
    [
      ['evaluate', '--data', 'tiny.seq.txt', '--model', 'popular', '--seed', 'x'],
      /--seed: expected an integer/,
    ],
    [
      ['evaluate', '--data', 'tiny.seq.txt', '--model', 'popular', '--max-train-minutes', '0'],
      /--max-train-minutes: expected a positive number/,
    ],
    [['evaluate', '--data', 'tiny.seq.txt', '--model', 'popular', '--wat'], /--wat/],
    [['evaluate', '--data', 'tiny.seq.txt', '--model', 'popular', '--seed'], /--seed/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ];
  for (const [args, pattern] of cases) {
    const r = reco(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, pattern);
  }
  const missing = reco(['evaluate', '--data', 'missing.txt', '--model', 'popular']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read dataset .*missing\.txt/);
  const wrongFormat = reco(['evaluate', '--data', 'tiny.seq.txt', '--format', 'pairs', '--model', 'popular']);
  assert.match(wrongFormat.stderr, /tiny\.seq\.txt:1: expected 2 fields/);
});

test('plugins register models through the registry', () => {
  const plugin = join(dir, 'plugin.js');
  writeFileSync(
    plugin,
    `exports.registerModels = (registry) => registry.register('sasrec', () => ({
      name: 'sasrec',
      async fit() {},
      scoreUsers(batch, out) { for (const row of out) for (let i = 0; i < row.length; i++) row[i] = -i; },
    }), 'test stub');\n`,
  );
  const r = reco([
    'evaluate',
    '--data',
    'tiny.seq.txt',
    '--model',
    'sasrec',
    '--plugin',
    './plugin.js',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).model, 'sasrec');
  const viaEnv = reco(['models'], { RECO_EVAL_PLUGINS: './plugin.js' });
  assert.match(viaEnv.stdout, /^sasrec\ttest stub$/m);
});

test('convert writes pairs that evaluate identically', () => {
  const c = reco(['convert', '--data', 'tiny.seq.txt', '--to', 'pairs', '--out', 'tiny.pairs.txt']);
  assert.equal(c.code, 0, c.stderr);
  const a = JSON.parse(reco(['evaluate', '--data', 'tiny.seq.txt', '--model', 'itemknn', '--json']).stdout);
  const b = JSON.parse(
    reco(['evaluate', '--data', 'tiny.pairs.txt', '--format', 'pairs', '--model', 'itemknn', '--json'])
      .stdout,
  );
  for (const k of KEYS.filter((k) => !['dataset', 'train_seconds', 'eval_seconds'].includes(k)))
    assert.equal(b[k], a[k], k);
});
