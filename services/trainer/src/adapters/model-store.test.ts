import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryModelStore } from './model-store';

test('versions appear whole, the live pointer moves, bad names are refused', async () => {
  const store = new DirectoryModelStore(await mkdtemp(join(tmpdir(), 'store-')));
  assert.equal(await store.live(), undefined);
  const uri = await store.put('sasrec-1', async (dir) => {
    assert.deepEqual(await store.list(), [], 'a version being written is not listed');
    await writeFile(join(dir, 'manifest.json'), '{}');
  });
  assert.match(uri, /^file:\/\/.*sasrec-1$/);
  await store.setLive('sasrec-1');
  assert.equal(await store.live(), 'sasrec-1');
  assert.deepEqual(await store.list(), ['sasrec-1']);
  assert.equal(await readFile(join(await store.localPath('sasrec-1'), 'manifest.json'), 'utf8'), '{}');
  await assert.rejects(
    store.put('../evil', async () => undefined),
    /invalid model version/,
  );
  // the checkpoints folder is not a version
  await mkdir(join(store.checkpointsRoot, 'run-1'), { recursive: true });
  assert.deepEqual(await store.list(), ['sasrec-1']);
  await assert.rejects(
    store.put('checkpoints', async () => undefined),
    /invalid model version/,
  );
});
