/**
 * Lays an hnswlib graph out again in memory so that neighbours sit close together, without
 * changing the graph: the same links, vectors and labels, so every search visits the same
 * items and returns the same answer, only from fewer pages and cache lines.
 *
 * hnswlib stores element i (its internal id: insertion order) at offset i of one array, and
 * items are inserted in label order, which says nothing about where they lie: a search jumps
 * across the whole array. Numbering the elements in breadth-first order of the bottom layer
 * from the entry point puts each item near the items it links to. On this machine, 100,000
 * 64-d items at efSearch 125: 157 µs a search before, 145 µs after (the same labels and
 * recall; bench:ann with ANN_BENCH_LAYOUTS=breadth-first,insertion); "graph reordering" in the
 * literature (Coleman et al., 2022) reports the same kind of gain.
 *
 * Works on the file hnswlib writes (`writeIndex`), whose layout is fixed by hnswlib's
 * `saveIndex` / `loadIndex` (hnswlib 0.8, as bundled by hnswlib-node 3.0.0): a header, then
 * `count` fixed-size bottom-layer records (link count, links, vector, label), then per element
 * its upper-layer link lists. Anything that does not add up to that layout is refused with an
 * error rather than guessed at.
 */

/** The header fields this module reads (all sizes in bytes). */
interface HnswLayout {
  count: number;
  /** Size of one bottom-layer record. */
  recordSize: number;
  /** Link slots in a bottom-layer record. */
  maxM0: number;
  /** Link slots per upper layer. */
  maxM: number;
  /** Where the entry point's id is stored in the file. */
  entryAt: number;
  /** Where the bottom-layer records start. */
  recordsAt: number;
  /** Where each element's upper-layer block starts (its 4-byte size first). */
  upperAt: Float64Array;
}

const HEADER_BYTES = 96;

/** Reads and checks the layout of a saved hnswlib index for vectors of `vectorBytes`. */
export function readLayout(file: Buffer, vectorBytes: number): HnswLayout {
  const refuse = (why: string) => new Error(`hnswlib index file: ${why}`);
  if (file.length < HEADER_BYTES) throw refuse('shorter than its header');
  const u64 = (at: number) => Number(file.readBigUInt64LE(at));
  const offsetLevel0 = u64(0);
  const count = u64(16);
  const recordSize = u64(24);
  const labelOffset = u64(32);
  const offsetData = u64(40);
  const entryAt = 52;
  const maxM = u64(56);
  const maxM0 = u64(64);
  if (offsetLevel0 !== 0) throw refuse(`level-0 offset ${offsetLevel0}, expected 0`);
  if (offsetData !== 4 + 4 * maxM0) throw refuse(`vector offset ${offsetData} for ${maxM0} links`);
  if (labelOffset !== offsetData + vectorBytes) throw refuse(`label offset ${labelOffset}`);
  if (recordSize !== labelOffset + 8) throw refuse(`record size ${recordSize}`);
  const upperAt = new Float64Array(count);
  let at = HEADER_BYTES + count * recordSize;
  const upperRecord = 4 + 4 * maxM;
  for (let i = 0; i < count; i++) {
    if (at + 4 > file.length) throw refuse('ends inside the upper layers');
    upperAt[i] = at;
    const size = file.readUInt32LE(at);
    if (size % upperRecord !== 0) throw refuse(`upper-layer block of ${size} bytes`);
    at += 4 + size;
  }
  if (at !== file.length) throw refuse(`${file.length - at} bytes after the last element`);
  return { count, recordSize, maxM0, maxM, entryAt, recordsAt: HEADER_BYTES, upperAt };
}

/** Internal ids in breadth-first order of the bottom layer from the entry point (then any unreached). */
export function breadthFirstOrder(file: Buffer, layout: HnswLayout): Uint32Array {
  const { count, recordSize, recordsAt } = layout;
  const order = new Uint32Array(count);
  const seen = new Uint8Array(count);
  let head = 0;
  let tail = 0;
  const visit = (id: number) => {
    if (id >= count) throw new Error(`hnswlib index file: link to ${id} of ${count} elements`);
    if (!seen[id]) {
      seen[id] = 1;
      order[tail++] = id;
    }
  };
  if (count > 0) visit(file.readUInt32LE(layout.entryAt));
  for (let next = 0; head < count;) {
    while (head < tail) {
      const record = recordsAt + order[head++]! * recordSize;
      const links = file.readUInt16LE(record);
      for (let j = 0; j < links; j++) visit(file.readUInt32LE(record + 4 + 4 * j));
    }
    while (next < count && seen[next]) next++;
    if (next < count) visit(next);
  }
  return order;
}

/**
 * The same index with element `order[n]` renumbered n: records and upper-layer blocks moved,
 * every link and the entry point translated. Labels and vectors travel with their records.
 */
export function renumber(file: Buffer, layout: HnswLayout, order: Uint32Array): Buffer {
  const { count, recordSize, recordsAt, maxM, upperAt } = layout;
  if (order.length !== count) throw new Error(`renumber: ${order.length} ids for ${count} elements`);
  const newId = new Uint32Array(count).fill(0xffffffff);
  order.forEach((old, n) => (newId[old] = n));
  if (newId.includes(0xffffffff)) throw new Error('renumber: the order is not a permutation');
  const out = Buffer.allocUnsafe(file.length);
  file.copy(out, 0, 0, recordsAt);
  out.writeUInt32LE(newId[file.readUInt32LE(layout.entryAt)]!, layout.entryAt);
  const translateLinks = (from: number, to: number) => {
    const links = file.readUInt16LE(from);
    for (let j = 0; j < links; j++)
      out.writeUInt32LE(newId[file.readUInt32LE(from + 4 + 4 * j)]!, to + 4 + 4 * j);
  };
  for (let n = 0; n < count; n++) {
    const from = recordsAt + order[n]! * recordSize;
    const to = recordsAt + n * recordSize;
    file.copy(out, to, from, from + recordSize);
    translateLinks(from, to);
  }
  const upperRecord = 4 + 4 * maxM;
  let to = recordsAt + count * recordSize;
  for (let n = 0; n < count; n++) {
    const from = upperAt[order[n]!]!;
    const size = file.readUInt32LE(from);
    file.copy(out, to, from, from + 4 + size);
    for (let level = 0; level < size / upperRecord; level++)
      translateLinks(from + 4 + level * upperRecord, to + 4 + level * upperRecord);
    to += 4 + size;
  }
  return out;
}
