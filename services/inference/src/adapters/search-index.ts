import MiniSearch from 'minisearch';

/** What the lexical index reads of a catalog item. */
export interface SearchDoc {
  itemId: string;
  title: string;
  description: string;
  brand: string;
  categoryPath: readonly string[];
}

export interface LexicalHit {
  itemId: string;
  score: number;
}

interface Doc {
  id: string;
  title: string;
  description: string;
  brand: string;
  category: string;
}

/**
 * Lexical retrieval over titles, descriptions, brands and categories (MiniSearch: BM25-style
 * scoring, prefix and fuzzy matching), updated as catalog items arrive.
 */
export class SearchIndex {
  private readonly index = new MiniSearch<Doc>({
    fields: ['title', 'description', 'brand', 'category'],
    searchOptions: {
      boost: { title: 3, brand: 2, category: 1.5 },
      prefix: true,
      fuzzy: 0.2,
      combineWith: 'AND',
    },
  });

  get size(): number {
    return this.index.documentCount;
  }

  upsert(item: SearchDoc): void {
    const doc: Doc = {
      id: item.itemId,
      title: item.title,
      description: item.description,
      brand: item.brand,
      category: item.categoryPath.join(' '),
    };
    if (this.index.has(item.itemId)) this.index.replace(doc);
    else this.index.add(doc);
  }

  remove(itemId: string): void {
    if (this.index.has(itemId)) this.index.discard(itemId);
  }

  /** Best matches first; every query term must match (falls back to any term when none does). */
  search(query: string, limit: number): LexicalHit[] {
    let hits = this.index.search(query);
    if (hits.length === 0) hits = this.index.search(query, { combineWith: 'OR' });
    return hits.slice(0, limit).map((h) => ({ itemId: String(h.id), score: h.score }));
  }
}
