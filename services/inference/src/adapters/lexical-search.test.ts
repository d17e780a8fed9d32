import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalLexicalSearch, ThreadLexicalSearch } from './lexical-search';
import type { SearchDoc } from './search-index';

const KINDS = ['running shoe', 'rain jacket', 'wool hat', 'trail sock'];
const doc = (i: number): SearchDoc => ({
  itemId: `item-${i}`,
  title: `${KINDS[i % 4]} ${i}`,
  description: `a ${['red', 'blue', 'green'][i % 3]} ${KINDS[i % 4]} for every day`,
  brand: `brand${i % 5}`,
  categoryPath: ['Clothing', KINDS[i % 4]!.split(' ')[1]!],
});

test('the lexical index on its own thread answers as the one on the caller’s thread, and sees upserts and removals sent before a search', async () => {
  const local = new LocalLexicalSearch();
  const thread = new ThreadLexicalSearch();
  try {
    for (let i = 0; i < 2000; i++) {
      local.upsert(doc(i));
      thread.upsert(doc(i));
    }
    const queries = ['shoe', 'red jacket', 'brand3 wool', 'trail', 'blu', 'nothing matches this'];
    // concurrent searches, each answered with its own hits
    const [a, b] = await Promise.all([
      Promise.all(queries.map((q) => local.search(q, 20))),
      Promise.all(queries.map((q) => thread.search(q, 20))),
    ]);
    assert.deepEqual(b, a);
    assert.equal(b[0]!.length, 20);
    assert.ok(
      b[1]!.every((h) => Number(h.itemId.slice(5)) % 4 === 1),
      'only jackets for "red jacket"',
    );

    // a changed title and a removal, then at once a search: both are visible
    thread.upsert({ ...doc(7), title: 'velvet slipper 7' });
    thread.remove('item-4');
    assert.deepEqual(
      (await thread.search('velvet', 5)).map((h) => h.itemId),
      ['item-7'],
    );
    assert.ok(!(await thread.search('hat', 2000)).some((h) => h.itemId === 'item-4'));
  } finally {
    await thread.close();
  }
  await assert.rejects(thread.search('shoe', 5), /search index closed/);
});
