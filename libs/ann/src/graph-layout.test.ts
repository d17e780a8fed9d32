import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HierarchicalNSW } from 'hnswlib-node';
import { breadthFirstOrder, readLayout, renumber } from './graph-layout';
import { ClusteredVectors } from './clustered-vectors';

/** A saved hnswlib graph of n 4-d vectors (label i for row i). */
function savedGraph(n: number): { file: Buffer; vectors: Float32Array } {
  const dim = 4;
  const vectors = new ClusteredVectors(dim, 5, 2).sample(n);
  const index = new HierarchicalNSW('l2', dim);
  index.initIndex(n, 8, 50, 1);
  for (let i = 0; i < n; i++) index.addPoint(Array.from(vectors.subarray(i * dim, (i + 1) * dim)), i);
  const dir = mkdtempSync(join(tmpdir(), 'graph-layout-'));
  try {
    index.writeIndexSync(join(dir, 'g'));
    return { file: readFileSync(join(dir, 'g')), vectors };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('breadth-first order visits every element once, the entry point first', () => {
  const { file } = savedGraph(500);
  const layout = readLayout(file, 16);
  const order = breadthFirstOrder(file, layout);
  assert.equal(order.length, 500);
  assert.equal(new Set(order).size, 500);
  assert.equal(order[0], file.readUInt32LE(layout.entryAt));
});

test('renumbering moves records and translates links: each label keeps its vector and its neighbours', () => {
  const { file } = savedGraph(300);
  const layout = readLayout(file, 16);
  const order = breadthFirstOrder(file, layout);
  const out = renumber(file, layout, order);
  assert.equal(out.length, file.length);
  const relaid = readLayout(out, 16);
  const labelAt = (f: Buffer, id: number) =>
    Number(f.readBigUInt64LE(96 + id * layout.recordSize + layout.recordSize - 8));
  const neighbourLabels = (f: Buffer, id: number) => {
    const at = 96 + id * layout.recordSize;
    const links = f.readUInt16LE(at);
    return Array.from({ length: links }, (_, j) => labelAt(f, f.readUInt32LE(at + 4 + 4 * j))).sort(
      (a, b) => a - b,
    );
  };
  for (let n = 0; n < 300; n++) {
    const old = order[n]!;
    assert.equal(labelAt(out, n), labelAt(file, old));
    assert.deepEqual(neighbourLabels(out, n), neighbourLabels(file, old));
    const vec = (f: Buffer, id: number) =>
      f.subarray(96 + id * layout.recordSize + 4 + 4 * layout.maxM0, 96 + (id + 1) * layout.recordSize - 8);
    assert.deepEqual(vec(out, n), vec(file, old));
  }
  assert.equal(
    labelAt(out, out.readUInt32LE(relaid.entryAt)),
    labelAt(file, file.readUInt32LE(layout.entryAt)),
  );
});

test('a file of another layout, a truncated one or a non-permutation is refused', () => {
  const { file } = savedGraph(100);
  assert.throws(() => readLayout(file, 20), /label offset/);
  assert.throws(() => readLayout(file.subarray(0, file.length - 3), 16), /bytes after|ends inside/);
  assert.throws(() => readLayout(file.subarray(0, 50), 16), /shorter than its header/);
  const layout = readLayout(file, 16);
  const notAPermutation = new Uint32Array(100).fill(0);
  assert.throws(() => renumber(file, layout, notAPermutation), /not a permutation/);
});
