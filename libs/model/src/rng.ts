/** Small seeded random helpers (mulberry32), so training is reproducible for a given seed. */
import { mulberry32 } from '@reco/evaluation';

export type Rand = () => number;

// One PRNG for the project: the evaluation harness's (seeded, platform-independent).
export { mulberry32 };

/** A Rand whose whole state can be read, so an interrupted run continues the same stream. */
export interface ResumableRand extends Rand {
  /** The generator's state; `resumableRand(state())` continues exactly where this one is. */
  state(): number;
}

/**
 * mulberry32 with its state exposed: `resumableRand(seed)` draws the same numbers as
 * `mulberry32(seed)` (the whole state of mulberry32 is one 32-bit counter).
 */
export function resumableRand(state: number): ResumableRand {
  let a = state >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Object.assign(next, { state: () => a });
}

/** A fresh 31-bit integer seed from a generator (for tf ops that take a seed). */
export function nextSeed(rand: Rand): number {
  return Math.floor(rand() * 2147483647);
}

export function shuffleInPlace<T>(arr: T[] | Int32Array, rand: Rand): void {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = arr[i];
    arr[i] = arr[j];
    arr[j] = t;
  }
}

/** Standard normal draw (Box-Muller). */
export function normal(rand: Rand): number {
  let u = 0;
  while (u === 0) u = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

/** Fills an array with N(0, std^2) draws. */
export function normalArray(n: number, std: number, rand: Rand): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = normal(rand) * std;
  return out;
}
