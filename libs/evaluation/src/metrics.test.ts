import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricAccumulator, rankMetrics, tieRank } from './metrics';
import { TopK, topKOfRow } from './topk';

const close = (a: number, b: number, msg?: string) =>
  assert.ok(Math.abs(a - b) < 1e-12, `${msg ?? ''} ${a} != ${b}`);

test('no ties: HR counts rank < K, NDCG = 1/log2(rank+2), MRR = 1/(rank+1)', () => {
  const top = rankMetrics(0, 0, [1, 5]);
  assert.deepEqual(top.hr, [1, 1]);
  close(top.ndcg[0], 1);
  close(top.mrr, 1);

  const third = rankMetrics(2, 0, [1, 3, 5]); // 0-based rank 2 = third place
  assert.deepEqual(third.hr, [0, 1, 1]);
  close(third.ndcg[1], 1 / Math.log2(4)); // 0.5
  close(third.ndcg[1], 0.5);
  close(third.mrr, 1 / 3);

  const tenth = rankMetrics(9, 0, [10]);
  assert.deepEqual(tenth.hr, [1]);
  close(tenth.ndcg[0], 1 / Math.log2(11));
  const eleventh = rankMetrics(10, 0, [10]);
  assert.deepEqual(eleventh.hr, [0]);
  assert.equal(eleventh.ndcg[0], 0);
  close(eleventh.mrr, 1 / 11);
});

test('ties, average-floor (default): r = higher + floor(ties/2)', () => {
  // four items share the top score (target + 3 others): positions 0..3, average 1.5 -> r = 1
  assert.equal(tieRank(0, 3), 1);
  const m = rankMetrics(0, 3, [1, 2, 5]);
  assert.deepEqual(m.hr, [0, 1, 1]);
  close(m.ndcg[2], 1 / Math.log2(3));
  close(m.mrr, 1 / 2);
  // one tie at positions 4/5: r = 4 (HR@5 hit, same as the fractional 4.5 < 5)
  const m2 = rankMetrics(4, 1, [5]);
  assert.deepEqual(m2.hr, [1]);
  close(m2.ndcg[0], 1 / Math.log2(6));
  // two ties: positions 3,4,5 -> average 4 exactly
  close(rankMetrics(3, 2, [10]).ndcg[0], 1 / Math.log2(6));
});

test('ties, average-fractional: r = higher + ties/2 as a fractional rank', () => {
  assert.equal(tieRank(0, 3, 'average-fractional'), 1.5);
  const m = rankMetrics(0, 3, [1, 2, 5], 'average-fractional');
  assert.deepEqual(m.hr, [0, 1, 1]);
  close(m.ndcg[2], 1 / Math.log2(3.5));
  close(m.mrr, 1 / 2.5);
  const m2 = rankMetrics(9, 1, [10], 'average-fractional'); // 9.5 < 10
  assert.deepEqual(m2.hr, [1]);
  close(m2.ndcg[0], 1 / Math.log2(11.5));
  // HR is the same in both average modes
  for (let h = 0; h < 12; h++)
    for (let t = 0; t < 6; t++)
      assert.deepEqual(rankMetrics(h, t, [5, 10]).hr, rankMetrics(h, t, [5, 10], 'average-fractional').hr);
});

test('ties, expected: mean over the tied positions', () => {
  const m = rankMetrics(9, 1, [10], 'expected'); // positions 9 and 10
  close(m.hr[0], 0.5);
  close(m.ndcg[0], 0.5 / Math.log2(11));
  close(m.mrr, (1 / 10 + 1 / 11) / 2);
});

test('accumulator averages over users', () => {
  const acc = new MetricAccumulator([1, 10]);
  acc.add(0, 0); // hit@1, ndcg 1, rr 1
  acc.add(2, 0); // hit@10, ndcg 0.5, rr 1/3
  acc.add(20, 0); // miss, rr 1/21
  acc.add(0, 1); // r = 0 (floor of 0.5): hit@1, ndcg 1, rr 1
  const r = acc.result();
  assert.equal(acc.count, 4);
  close(r['HR@1'], 2 / 4);
  close(r['HR@10'], 3 / 4);
  close(r['NDCG@10'], (1 + 0.5 + 0 + 1) / 4);
  close(r.MRR, (1 + 1 / 3 + 1 / 21 + 1) / 4);
});

test('TopK keeps the k best, ties to the lower index, skips NaN', () => {
  const row = Float32Array.from([0.5, 0.9, NaN, 0.9, 0.1, 0.7, 0.9]);
  assert.deepEqual(topKOfRow(row, 3), [1, 3, 6]);
  assert.deepEqual(topKOfRow(row, 5), [1, 3, 6, 5, 0]);
  assert.deepEqual(
    topKOfRow(row, 2, (i) => i === 1),
    [3, 6],
  );
  const t = new TopK(2);
  t.offer(0, 1);
  assert.equal(t.threshold(), -Infinity);
  t.offer(1, 1);
  assert.equal(t.threshold(), 1);
  t.offer(2, 1); // equal score does not displace earlier items
  assert.deepEqual(t.toArray(), [0, 1]);
});
