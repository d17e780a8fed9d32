import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogramBuckets, parsePrometheusText, sumMatching } from './prometheus-text';

const TEXT = `# HELP inference_request_seconds latency
# TYPE inference_request_seconds histogram
inference_request_seconds_bucket{le="0.005",method="Recommend",service="inference"} 3
inference_request_seconds_bucket{le="0.01",method="Recommend",service="inference"} 7
inference_request_seconds_bucket{le="+Inf",method="Recommend",service="inference"} 9
inference_request_seconds_bucket{le="0.005",method="Search",service="inference"} 1
inference_request_seconds_bucket{le="0.01",method="Search",service="inference"} 1
inference_request_seconds_bucket{le="+Inf",method="Search",service="inference"} 2
inference_request_seconds_sum{method="Recommend"} 0.05
ingest_consumer_lag{topic="a",partition="0",service="ingest"} 5
ingest_consumer_lag{topic="a",partition="1",service="ingest"} 7
weird{label="a \\"quoted\\" value"} 1
not a metric line
`;

test('parses samples, sums histogram buckets over label sets, sums gauges by name', () => {
  const samples = parsePrometheusText(TEXT);
  assert.equal(samples.length, 10);
  assert.equal(samples.at(-1)!.labels.label, 'a "quoted" value');
  assert.deepEqual(histogramBuckets(samples, /_request_(duration_)?seconds$/), {
    name: 'inference_request_seconds',
    buckets: [
      [0.005, 4],
      [0.01, 8],
      [Infinity, 11],
    ],
  });
  assert.equal(histogramBuckets(samples, /nothing/), null);
  assert.equal(sumMatching(samples, /_consumer_lag$/), 12);
  assert.equal(sumMatching(samples, /absent/), null);
});
