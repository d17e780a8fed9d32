/** The worker thread behind ThreadLexicalSearch: owns one SearchIndex. */
import { parentPort } from 'node:worker_threads';
import { SearchIndex, type SearchDoc } from './search-index';

export type SearchRequest =
  | { type: 'upsert'; docs: SearchDoc[] }
  | { type: 'remove'; itemIds: string[] }
  | { type: 'search'; id: number; query: string; limit: number };

export type SearchReply =
  | { type: 'found'; id: number; itemIds: string[]; scores: Float64Array }
  | { type: 'failed'; id: number; message: string };

if (parentPort) {
  const port = parentPort;
  const index = new SearchIndex();
  port.on('message', (req: SearchRequest) => {
    if (req.type === 'upsert') for (const d of req.docs) index.upsert(d);
    else if (req.type === 'remove') for (const id of req.itemIds) index.remove(id);
    else {
      let reply: SearchReply;
      try {
        const hits = index.search(req.query, req.limit);
        reply = {
          type: 'found',
          id: req.id,
          itemIds: hits.map((h) => h.itemId),
          scores: Float64Array.from(hits, (h) => h.score),
        };
      } catch (err) {
        reply = { type: 'failed', id: req.id, message: err instanceof Error ? err.message : String(err) };
      }
      port.postMessage(reply, reply.type === 'found' ? [reply.scores.buffer as ArrayBuffer] : []);
    }
  });
}
