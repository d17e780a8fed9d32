/**
 * Item content features for the content tower: category path, brand, price band and title
 * tokens become string tokens ("cat:beauty>makeup", "brand:acme", "price:b5", "title:lipstick");
 * an item's content embedding is the sum over fields of the mean of its tokens' embeddings.
 * So an item nobody has interacted with still gets an embedding, shared with items of the same
 * category/brand/price band/title words.
 */
export interface ItemContent {
  /** Category path, either as an array from root to leaf or one string with '>' or '/' separators. */
  category?: string | readonly string[];
  brand?: string;
  /** Price in any currency unit (bands are log2 buckets). */
  price?: number;
  title?: string;
}

const MAX_TITLE_TOKENS = 16;
const norm = (s: string): string => s.trim().toLowerCase().replace(/\s+/g, ' ');

/** Tokens of one item, grouped by field (fields with no value are absent). */
export function contentTokens(c: ItemContent): string[][] {
  const fields: string[][] = [];
  if (c.category !== undefined) {
    const parts = (typeof c.category === 'string' ? c.category.split(/[>/|]/) : [...c.category])
      .map(norm)
      .filter((p) => p !== '');
    const toks: string[] = [];
    for (let i = 0; i < parts.length; i++) toks.push(`cat:${parts.slice(0, i + 1).join('>')}`);
    if (toks.length) fields.push(toks);
  }
  if (c.brand !== undefined && norm(c.brand) !== '') fields.push([`brand:${norm(c.brand)}`]);
  if (c.price !== undefined && Number.isFinite(c.price) && c.price >= 0) {
    fields.push([`price:b${Math.floor(Math.log2(1 + c.price))}`]);
  }
  if (c.title !== undefined) {
    const words = [
      ...new Set(
        c.title
          .toLowerCase()
          .split(/[^\p{L}\p{N}]+/u)
          .filter((w) => w.length >= 2),
      ),
    ];
    if (words.length) fields.push(words.slice(0, MAX_TITLE_TOKENS).map((w) => `title:${w}`));
  }
  return fields;
}

/** Sparse (token, weight) list of one item. */
export interface EncodedContent {
  tokens: Int32Array;
  weights: Float32Array;
}

/** Token vocabulary + per-item sparse token lists (CSR over items). */
export class ContentIndex {
  readonly tokenIndex: Map<string, number>;

  constructor(
    readonly vocab: readonly string[],
    /** CSR over items: tokens of item i are tokens[itemStart[i]..itemStart[i+1]). */
    readonly itemStart: Int32Array,
    readonly tokens: Int32Array,
    readonly weights: Float32Array,
  ) {
    this.tokenIndex = new Map(vocab.map((t, i) => [t, i]));
  }

  get numItems(): number {
    return this.itemStart.length - 1;
  }

  /**
   * Builds the vocabulary from the catalog (tokens seen on at least `minCount` items) and
   * encodes every item of `itemIds` (items without content get no tokens).
   */
  static build(
    itemIds: readonly string[],
    content: ReadonlyMap<string, ItemContent>,
    minCount = 1,
  ): ContentIndex {
    const perItem = itemIds.map((id) => {
      const c = content.get(id);
      return c ? contentTokens(c) : [];
    });
    const df = new Map<string, number>();
    for (const fields of perItem) for (const f of fields) for (const t of f) df.set(t, (df.get(t) ?? 0) + 1);
    const vocab = [...df.entries()]
      .filter(([, n]) => n >= minCount)
      .map(([t]) => t)
      .sort();
    const tokenIndex = new Map(vocab.map((t, i) => [t, i]));
    const itemStart = new Int32Array(itemIds.length + 1);
    const toks: number[] = [];
    const ws: number[] = [];
    perItem.forEach((fields, i) => {
      const enc = encodeFields(fields, tokenIndex);
      for (let k = 0; k < enc.tokens.length; k++) {
        toks.push(enc.tokens[k]);
        ws.push(enc.weights[k]);
      }
      itemStart[i + 1] = toks.length;
    });
    return new ContentIndex(vocab, itemStart, Int32Array.from(toks), Float32Array.from(ws));
  }

  /** Encodes content of an item (e.g. a new one) with this vocabulary; unknown tokens are dropped. */
  encode(c: ItemContent): EncodedContent {
    return encodeFields(contentTokens(c), this.tokenIndex);
  }

  /** Number of items with at least one known token. */
  itemsWithContent(): number {
    let n = 0;
    for (let i = 0; i < this.numItems; i++) if (this.itemStart[i + 1] > this.itemStart[i]) n++;
    return n;
  }
}

function encodeFields(fields: string[][], tokenIndex: ReadonlyMap<string, number>): EncodedContent {
  const toks: number[] = [];
  const ws: number[] = [];
  for (const f of fields) {
    const known = f.map((t) => tokenIndex.get(t)).filter((x): x is number => x !== undefined);
    for (const t of known) {
      toks.push(t);
      ws.push(1 / known.length);
    }
  }
  return { tokens: Int32Array.from(toks), weights: Float32Array.from(ws) };
}
