import { fromHalf, toHalf } from './float16';

/** What a user did to an item, by strength. */
export enum Interaction {
  View = 0,
  Click = 1,
  Cart = 2,
  Purchase = 3,
}

export interface RecentItem {
  /** itemHash(item id). */
  item: number;
  kind: Interaction;
}

export interface CategoryAffinity {
  /** hash32(category path). */
  category: number;
  /** Decayed weighted count, as of lastSeen. */
  score: number;
  /** Unix seconds of the last interaction in this category. */
  lastSeen: number;
}

export interface InterestVector {
  /** hash32(model version) of the model that encoded it. */
  modelTag: number;
  values: Float32Array;
}

/** Everything kept per user (one Redis string, see keys.ts). */
export interface UserState {
  /** Unix seconds of the last event applied. */
  updatedAt: number;
  /** Recent interactions in time order, latest last (capped). */
  recent: RecentItem[];
  /** Items bought, latest last (capped); never recommended again. */
  bought: number[];
  /** Strongest categories first (capped). */
  categories: CategoryAffinity[];
  vector: InterestVector | undefined;
}

export const emptyUserState = (): UserState => ({
  updatedAt: 0,
  recent: [],
  bought: [],
  categories: [],
  vector: undefined,
});

export const USER_STATE_FORMAT = 1;
const VECTOR_F16 = 1;
const VECTOR_INT8 = 2;
const MAX_LIST = 255;

/**
 * Binary layout (little endian), about 220 bytes for 20 recent items and a 64-d vector:
 *   u8 format | u32 updatedAt
 *   u8 n | n x 6 bytes: item hash (46 bits) * 4 + interaction (2 bits), as a 48-bit integer
 *   u8 n | n x 6 bytes: bought item hash
 *   u8 n | n x 10 bytes: u32 category hash, f16 score, u32 lastSeen
 *   u8 vector encoding (0 none, 1 f16, 2 int8) | u32 model tag | u16 dim |
 *     f16: dim x f16; int8: f32 scale | dim x i8 (value = scale * i8)
 *
 * Vectors are written as int8 with one scale per vector (symmetric scalar quantization): half
 * the bytes of f16, which keeps a user's value under 256 bytes and so in a smaller allocator
 * class (Redis MEMORY USAGE 344 instead of 408 bytes per user). The error per component is at
 * most max|v| / 254; f16 vectors written earlier are still read.
 */
export function encodeUserState(s: UserState): Buffer {
  const recent = s.recent.slice(-MAX_LIST);
  const bought = s.bought.slice(-MAX_LIST);
  const cats = s.categories.slice(0, MAX_LIST);
  const dim = s.vector?.values.length ?? 0;
  const size =
    1 +
    4 +
    1 +
    recent.length * 6 +
    1 +
    bought.length * 6 +
    1 +
    cats.length * 10 +
    1 +
    (s.vector ? 6 + 4 + dim : 0);
  const b = Buffer.allocUnsafe(size);
  let o = b.writeUInt8(USER_STATE_FORMAT, 0);
  o = b.writeUInt32LE(clampU32(s.updatedAt), o);
  o = b.writeUInt8(recent.length, o);
  for (const r of recent) o = b.writeUIntLE(r.item * 4 + (r.kind & 3), o, 6);
  o = b.writeUInt8(bought.length, o);
  for (const item of bought) o = b.writeUIntLE(item, o, 6);
  o = b.writeUInt8(cats.length, o);
  for (const c of cats) {
    o = b.writeUInt32LE(c.category >>> 0, o);
    o = b.writeUInt16LE(toHalf(c.score), o);
    o = b.writeUInt32LE(clampU32(c.lastSeen), o);
  }
  o = b.writeUInt8(s.vector ? VECTOR_INT8 : 0, o);
  if (s.vector) {
    const values = s.vector.values;
    o = b.writeUInt32LE(s.vector.modelTag >>> 0, o);
    o = b.writeUInt16LE(dim, o);
    let max = 0;
    for (let i = 0; i < dim; i++) max = Math.max(max, Math.abs(values[i]));
    const scale = max > 0 && Number.isFinite(max) ? max / 127 : 1;
    o = b.writeFloatLE(scale, o);
    for (let i = 0; i < dim; i++)
      o = b.writeInt8(Math.max(-127, Math.min(127, Math.round(values[i] / scale))), o);
  }
  return b;
}

/** Parses a stored state; throws on a foreign format or truncated data. */
export function decodeUserState(b: Buffer): UserState {
  if (b.length < 5 || b.readUInt8(0) !== USER_STATE_FORMAT) throw new Error('user state: unknown format');
  let o = 1;
  const updatedAt = b.readUInt32LE(o);
  o += 4;
  const recent: RecentItem[] = [];
  for (let n = b.readUInt8(o++); n > 0; n--, o += 6) {
    const v = b.readUIntLE(o, 6);
    recent.push({ item: Math.floor(v / 4), kind: (v % 4) as Interaction });
  }
  const bought: number[] = [];
  for (let n = b.readUInt8(o++); n > 0; n--, o += 6) bought.push(b.readUIntLE(o, 6));
  const categories: CategoryAffinity[] = [];
  for (let n = b.readUInt8(o++); n > 0; n--, o += 10)
    categories.push({
      category: b.readUInt32LE(o),
      score: fromHalf(b.readUInt16LE(o + 4)),
      lastSeen: b.readUInt32LE(o + 6),
    });
  let vector: InterestVector | undefined;
  const encoding = b.readUInt8(o++);
  if (encoding === VECTOR_F16 || encoding === VECTOR_INT8) {
    const modelTag = b.readUInt32LE(o);
    const dim = b.readUInt16LE(o + 4);
    o += 6;
    const values = new Float32Array(dim);
    if (encoding === VECTOR_F16) {
      for (let i = 0; i < dim; i++, o += 2) values[i] = fromHalf(b.readUInt16LE(o));
    } else {
      const scale = b.readFloatLE(o);
      o += 4;
      for (let i = 0; i < dim; i++, o++) values[i] = scale * b.readInt8(o);
    }
    vector = { modelTag, values };
  }
  return { updatedAt, recent, bought, categories, vector };
}

function clampU32(x: number): number {
  return Math.max(0, Math.min(0xffffffff, Math.floor(x)));
}

/**
 * Lua: writes the new state with a TTL only if the key still holds `expected` (empty string =
 * absent). Returns 1 when written, 0 on a concurrent change (the caller re-reads and retries).
 * One key, so it runs unchanged on Redis Cluster.
 */
export const CAS_SET_SCRIPT = `
local cur = redis.call('GET', KEYS[1])
if (cur == false and ARGV[1] == '') or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`;
