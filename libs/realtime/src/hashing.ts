/**
 * Stable short hashes that keep per-user state compact: an item id becomes a 46-bit number
 * (two independent 32-bit FNV-1a variants; a collision among 1 M items has probability ~1e-2,
 * among 100 k ~1e-4), a category path or model version a 32-bit one. Every process maps the
 * hashes back through the ids it knows (catalog, model item ids).
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv1a(s: string, basis: number): number {
  let h = basis >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  // final avalanche (murmur3 fmix32) so that similar ids spread
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** 46-bit hash of an item id, as a safe integer. */
export function itemHash(itemId: string): number {
  const hi = fnv1a(itemId, FNV_OFFSET);
  const lo = fnv1a(itemId, 0x9747b28c) & 0x3fff;
  return hi * 0x4000 + lo;
}

/** 32-bit hash of a string (category paths, model versions). */
export function hash32(s: string): number {
  return fnv1a(s, FNV_OFFSET);
}

/** The category path as one string, root first: "Beauty/Skin Care/Face". */
export function categoryKey(path: readonly string[]): string {
  return path.join('/');
}
