import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { SearchIndex, type LexicalHit, type SearchDoc } from './search-index';
import type { SearchReply, SearchRequest } from './search-thread';

/** The lexical index as serving uses it: fed by the catalog, searched per request. */
export interface LexicalSearch {
  upsert(item: SearchDoc): void;
  remove(itemId: string): void;
  search(query: string, limit: number): Promise<LexicalHit[]>;
  close(): Promise<void>;
}

/** The index on the caller's thread. */
export class LocalLexicalSearch implements LexicalSearch {
  private readonly index = new SearchIndex();
  upsert(item: SearchDoc): void {
    this.index.upsert(item);
  }
  remove(itemId: string): void {
    this.index.remove(itemId);
  }
  search(query: string, limit: number): Promise<LexicalHit[]> {
    return Promise.resolve(this.index.search(query, limit));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The index on a worker thread. A lexical index of a large catalog is millions of small
 * objects (100,000 items: about 100 MB); on the serving thread every major GC walks them and
 * stops Recommend for as long. Catalog changes are sent in batches, in order with searches, so a
 * search sent after an upsert sees it.
 */
export class ThreadLexicalSearch implements LexicalSearch {
  private readonly worker = new Worker(join(__dirname, 'search-thread.js'));
  private pendingDocs: SearchDoc[] = [];
  private pendingRemovals: string[] = [];
  private flushScheduled = false;
  private readonly waiting = new Map<
    number,
    { resolve: (h: LexicalHit[]) => void; reject: (e: Error) => void }
  >();
  private nextId = 0;
  private failure?: Error;

  constructor() {
    this.worker.on('message', (reply: SearchReply) => this.onReply(reply));
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => this.fail(new Error(`search worker exited with code ${code}`)));
    this.worker.unref(); // an idle index does not keep the process alive
  }

  upsert(item: SearchDoc): void {
    this.flushRemovals();
    this.pendingDocs.push(item); // cloned to the thread as it is: pass only a SearchDoc's fields
    this.scheduleFlush();
  }

  remove(itemId: string): void {
    this.flushDocs();
    this.pendingRemovals.push(itemId);
    this.scheduleFlush();
  }

  search(query: string, limit: number): Promise<LexicalHit[]> {
    if (this.failure) return Promise.reject(this.failure);
    this.flush();
    const id = this.nextId++;
    return new Promise<LexicalHit[]>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) this.worker.ref(); // a search in flight keeps the process alive
      this.post({ type: 'search', id, query, limit });
    });
  }

  async close(): Promise<void> {
    this.fail(new Error('search index closed'));
    await this.worker.terminate();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    this.flushDocs();
    this.flushRemovals();
  }

  private flushDocs(): void {
    if (!this.pendingDocs.length) return;
    this.post({ type: 'upsert', docs: this.pendingDocs });
    this.pendingDocs = [];
  }

  private flushRemovals(): void {
    if (!this.pendingRemovals.length) return;
    this.post({ type: 'remove', itemIds: this.pendingRemovals });
    this.pendingRemovals = [];
  }

  private post(req: SearchRequest): void {
    if (!this.failure) this.worker.postMessage(req);
  }

  private onReply(reply: SearchReply): void {
    const waiter = this.waiting.get(reply.id);
    if (!waiter) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker.unref();
    if (reply.type === 'failed') return waiter.reject(new Error(`search worker: ${reply.message}`));
    waiter.resolve(reply.itemIds.map((itemId, i) => ({ itemId, score: reply.scores[i]! })));
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
  }
}
