/**
 * itemHash → a non-negative int (an item's label, or its slot in an array of ids), in two
 * typed arrays instead of a Map. A Map keyed by 46-bit hashes keeps every key as a boxed
 * number in the JS heap: 100,000 items cost 100,000 objects per map, and every major GC of a
 * serving process marks them all. Here the whole index is two array buffers the GC never walks.
 *
 * Open addressing with linear probing, at most half full; entries are never removed (the
 * catalog and a model version only ever learn ids).
 */
export class ItemHashIndex {
  private keys: Float64Array;
  /** -1 marks an empty slot. */
  private values: Int32Array;
  private mask: number;
  /** 32 - log2(capacity): the start slot is the top bits of the mixed hash. */
  private shift: number;
  private count = 0;

  constructor(expected = 16) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.keys = new Float64Array(capacity);
    this.values = new Int32Array(capacity).fill(-1);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
  }

  get size(): number {
    return this.count;
  }

  get(hash: number): number | undefined {
    for (let i = slotOf(hash, this.shift); ; i = (i + 1) & this.mask) {
      const v = this.values[i];
      if (v < 0) return undefined;
      if (this.keys[i] === hash) return v;
    }
  }

  /** Sets (or replaces) the value of `hash`; `value` must be a non-negative 32-bit int. */
  set(hash: number, value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff)
      throw new RangeError(`ItemHashIndex value must be a non-negative 32-bit integer, got ${value}`);
    if ((this.count + 1) * 2 > this.values.length) this.grow();
    for (let i = slotOf(hash, this.shift); ; i = (i + 1) & this.mask) {
      if (this.values[i] < 0) {
        this.keys[i] = hash;
        this.values[i] = value;
        this.count++;
        return;
      }
      if (this.keys[i] === hash) {
        this.values[i] = value;
        return;
      }
    }
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.values = new Int32Array(values.length * 2).fill(-1);
    this.mask = this.values.length - 1;
    this.shift--;
    this.count = 0;
    for (let i = 0; i < values.length; i++) if (values[i] >= 0) this.set(keys[i], values[i]);
  }
}

/** Fibonacci hashing of the hash's low 32 bits: the top `32 - shift` bits of the product. */
function slotOf(hash: number, shift: number): number {
  return Math.imul(hash >>> 0, 0x9e3779b1) >>> shift;
}
