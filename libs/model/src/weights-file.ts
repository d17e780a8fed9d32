import { readFileSync, writeFileSync } from 'node:fs';

/** Where one named float32 array sits in a weights file (the artifact manifest's weight table). */
export interface WeightEntry {
  name: string;
  shape: number[];
  /** In float32 elements from the start of the file. */
  offset: number;
  length: number;
}

/**
 * Writes named float32 arrays concatenated (little-endian) to `path`; returns the table that
 * locates each one. The model artifact (`weights.bin`) and training checkpoints use it.
 */
export function writeWeightsFile(
  path: string,
  weights: readonly { name: string; shape: number[]; values: Float32Array }[],
): WeightEntry[] {
  let total = 0;
  const table = weights.map((w) => {
    const entry = { name: w.name, shape: w.shape, offset: total, length: w.values.length };
    total += w.values.length;
    return entry;
  });
  const buf = new Float32Array(total);
  weights.forEach((w, i) => buf.set(w.values, table[i]!.offset));
  writeFileSync(path, bytes(buf));
  return table;
}

/** Reads the arrays of a weights file by name (views on one buffer). */
export function readWeightsFile(path: string, table: readonly WeightEntry[]): Map<string, Float32Array> {
  const raw = f32(readFileSync(path));
  const out = new Map<string, Float32Array>();
  for (const w of table) {
    if (w.offset + w.length > raw.length)
      throw new Error(`${path}: weight ${w.name} is past the end of the file`);
    out.set(w.name, raw.subarray(w.offset, w.offset + w.length));
  }
  return out;
}

export function bytes(a: Float32Array | Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
/** Copies (alignment-safe) little-endian float32 data. */
export function f32(b: Buffer): Float32Array {
  const out = new Float32Array(b.length / 4);
  Buffer.from(out.buffer).set(b);
  return out;
}
export function i32(b: Buffer): Int32Array {
  const out = new Int32Array(b.length / 4);
  Buffer.from(out.buffer).set(b);
  return out;
}
