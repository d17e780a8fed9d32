import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { StageHistogram } from './stage-histogram';

const buckets = [0.001, 0.01, 0.1, 1];
// on a bound, between bounds, above every bound, zero; two labels, interleaved
const observations: [string, number][] = [
  ['redis', 0.001],
  ['ann', 0.02],
  ['redis', 0.0005],
  ['ann', 5],
  ['rules', 0],
  ['redis', 0.1],
  ['ann', 0.02],
];

function both() {
  const a = new Registry();
  const b = new Registry();
  for (const r of [a, b]) r.setDefaultLabels({ service: 'inference' });
  const reference = new Histogram({
    name: 'x_stage_seconds',
    help: 'time per stage',
    labelNames: ['stage'],
    buckets,
    registers: [a],
  });
  const fast = new StageHistogram({
    name: 'x_stage_seconds',
    help: 'time per stage',
    labelName: 'stage',
    buckets,
    registers: [b],
  });
  for (const [stage, v] of observations) {
    reference.observe({ stage }, v);
    fast.observe(stage, v);
  }
  return { a, b, fast };
}

test('the text export is the one prom-client Histogram gives for the same observations', async () => {
  const { a, b } = both();
  const text = await b.metrics();
  assert.equal(text, await a.metrics());
  assert.match(text, /x_stage_seconds_bucket\{le="0.01",service="inference",stage="redis"\} 2/);
  assert.match(text, /x_stage_seconds_count\{service="inference",stage="ann"\} 3/);
});

test('the JSON export, and its sum over a process group, are prom-client Histogram\u2019s', async () => {
  const { a, b } = both();
  const [ja, jb] = [await a.getMetricsAsJSON(), await b.getMetricsAsJSON()];
  assert.deepEqual(jb, ja);
  const group = async (json: typeof ja) => AggregatorRegistry.aggregate([json, json]).metrics();
  assert.equal(await group(jb), await group(ja));
  assert.match(await group(jb), /x_stage_seconds_sum\{stage="redis",service="inference"\} 0.203/);
});

test('reset empties it; a value that is not a number is refused, naming the metric', async () => {
  const { b, fast } = both();
  assert.throws(() => fast.observe('redis', Number.NaN), /x_stage_seconds: value is not a valid number/);
  fast.reset();
  assert.doesNotMatch(await b.metrics(), /x_stage_seconds_bucket/);
});
