import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetError, formatDataset, loadDataset, parseDataset } from './dataset';
import { ItemKnnRecommender } from './models/itemknn';
import { PopularRecommender } from './models/popular';
import { runEvaluation } from './run';

const SEQ = '10 5 3 7 9\n2 3 7 5 1 12\n7 3 7 3\n';
// same interactions, users interleaved, each user's lines in time order
const PAIRS = ['10 5', '2 3', '10 3', '2 7', '7 3', '10 7', '2 5', '7 7', '2 1', '10 9', '7 3', '2 12'].join(
  '\n',
);

test('seq: dense item indices in numeric id order, users in order of appearance', () => {
  const ds = parseDataset(SEQ, 'seq', 'tiny');
  assert.deepEqual(ds.itemIds, ['1', '3', '5', '7', '9', '12']);
  assert.deepEqual(ds.userIds, ['10', '2', '7']);
  assert.deepEqual(Array.from(ds.sequences[0]), [2, 1, 3, 4]);
  assert.deepEqual(Array.from(ds.sequences[2]), [1, 3, 1]);
  assert.equal(ds.itemIndex.get('12'), 5);
  assert.equal(ds.numInteractions, 12);
});

test('seq and pairs of the same data give the same structure', () => {
  const a = parseDataset(SEQ, 'seq', 'a');
  const b = parseDataset(PAIRS, 'pairs', 'b');
  assert.deepEqual(b.itemIds, a.itemIds);
  assert.deepEqual(b.userIds, a.userIds);
  assert.deepEqual(
    b.sequences.map((s) => Array.from(s)),
    a.sequences.map((s) => Array.from(s)),
  );
  assert.equal(b.numInteractions, a.numInteractions);
  // formatting round-trips
  const again = parseDataset(formatDataset(a, 'pairs'), 'pairs', 'c');
  assert.deepEqual(
    again.sequences.map((s) => Array.from(s)),
    a.sequences.map((s) => Array.from(s)),
  );
  assert.equal(formatDataset(a, 'seq'), SEQ);
});

test('blank lines and CRLF are accepted', () => {
  const ds = parseDataset('1 2 3\r\n\r\n  \n2 3 4\r\n', 'seq', 'crlf');
  assert.equal(ds.userIds.length, 2);
});

function assertLineError(text: string, format: 'seq' | 'pairs', line: number, pattern: RegExp): void {
  assert.throws(
    () => parseDataset(text, format, 'data/x.txt'),
    (err: unknown) => {
      assert.ok(err instanceof DatasetError, String(err));
      assert.equal(err.line, line);
      assert.equal(err.file, 'data/x.txt');
      assert.match(err.message, new RegExp(`^data/x\\.txt:${line}: `));
      assert.match(err.message, pattern);
      return true;
    },
  );
}

test('loader errors name the file, the line and the problem', () => {
  assertLineError('1 2 3\n2 4 x5\n', 'seq', 2, /item id 'x5' is not a positive integer/);
  assertLineError('1 2 3\n\n7\n', 'seq', 3, /user 7 has no items/);
  assertLineError('1 2 3\n1 4 5\n', 'seq', 2, /user 1 appears again \(first on line 1\)/);
  assertLineError('1 2\n1 3\n', 'seq', 2, /is this a pairs file/);
  assertLineError('u1 2 3\n', 'seq', 1, /user id 'u1'/);
  assertLineError('1 0 3\n', 'seq', 1, /item id '0'/);
  assertLineError('1 2\n1 3\n1 4 5\n', 'pairs', 3, /expected 2 fields 'user_id item_id', got 3/);
  assertLineError('1 2\n1\n', 'pairs', 2, /got 1/);
  assertLineError('1 2\n1 -3\n', 'pairs', 2, /item id '-3'/);
  assertLineError('\n\n', 'seq', 3, /no interactions/);
});

test('loadDataset names the dataset by basename and errors by path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reco-eval-'));
  const file = join(dir, 'bad.seq.txt');
  writeFileSync(file, '1 2 3\n2 3 q\n');
  assert.throws(() => loadDataset(file, 'seq'), new RegExp(`${file.replace(/[.]/g, '\\.')}:2: item id 'q'`));
  writeFileSync(file, SEQ);
  assert.equal(loadDataset(file, 'seq').name, 'bad.seq.txt');
  assert.throws(() => loadDataset(join(dir, 'missing.txt'), 'seq'), /cannot read dataset .*missing\.txt/);
});

const BEAUTY = '/work/shared/datasets/amazon-beauty.seq.txt';

test(
  'a pairs version of a real dataset sample gives identical evaluation results',
  { skip: !existsSync(BEAUTY) && 'dataset not present' },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reco-eval-'));
    const sample = readFileSync(BEAUTY, 'utf8').split('\n').slice(0, 1500).join('\n') + '\n';
    const seqFile = join(dir, 'beauty-sample.seq.txt');
    const pairsFile = join(dir, 'beauty-sample.pairs.txt');
    writeFileSync(seqFile, sample);
    writeFileSync(pairsFile, formatDataset(loadDataset(seqFile, 'seq'), 'pairs'));
    const a = loadDataset(seqFile, 'seq');
    const b = loadDataset(pairsFile, 'pairs');
    assert.equal(b.numInteractions, a.numInteractions);
    for (const protocol of ['full', 'sampled100'] as const) {
      for (const make of [() => new PopularRecommender(), () => new ItemKnnRecommender()]) {
        const ra = await runEvaluation(a, make(), { protocol, seed: 7 });
        const rb = await runEvaluation(b, make(), { protocol, seed: 7 });
        const strip = (r: Record<string, unknown>) => ({
          ...r,
          dataset: '',
          train_seconds: 0,
          eval_seconds: 0,
        });
        assert.deepEqual(strip({ ...rb }), strip({ ...ra }), `${protocol} ${ra.model}`);
        assert.equal(ra.users, 1500);
      }
    }
  },
);
