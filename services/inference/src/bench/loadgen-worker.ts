/**
 * Open-loop gRPC load generator (a separate process, so it does not share the event loop of
 * the server): sends Recommend at a fixed rate regardless of responses, from a 2 ms timer
 * (no busy spin), and measures each latency from the request's scheduled time (no
 * coordinated omission). Args (JSON in argv[2]): target, rate, seconds, users, k, warmup.
 * Prints one JSON line with p50/p95/p99/max (ms), errors and the achieved rate.
 */
import * as grpc from '@grpc/grpc-js';
import { RecommenderClient } from '@reco/contracts';

interface Args {
  target: string;
  rate: number;
  seconds: number;
  users: number;
  k: number;
  userPrefix: string;
}

async function main() {
  const a = JSON.parse(process.argv[2]) as Args;
  const clients = [0, 1].map(
    (i) =>
      new RecommenderClient(a.target, grpc.credentials.createInsecure(), {
        'grpc.channel_id': i,
      } as grpc.ClientOptions),
  );
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  let done = 0;
  const total = Math.round(a.rate * a.seconds);
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const fire = (scheduled: number) => {
      const n = sent++;
      const user = `${a.userPrefix}${Math.floor(Math.random() * a.users)}`;
      clients[n % 2].recommend(
        { userId: user, k: a.k, context: undefined, filters: undefined },
        new grpc.Metadata(),
        { deadline: Date.now() + 5000 },
        (err) => {
          if (err) errors++;
          else latencies.push(performance.now() - scheduled);
          if (++done === total) resolve();
        },
      );
    };
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) / 1000) * a.rate));
      while (sent < due) fire(t0 + (sent / a.rate) * 1000);
      if (sent < total) setTimeout(tick, 2);
    };
    tick();
  });
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((x, y) => x - y);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  const r2 = (x: number) => Math.round(x * 100) / 100;
  console.log(
    JSON.stringify({
      rate: a.rate,
      achieved: r2(done / elapsed),
      requests: total,
      errors,
      p50: r2(q(0.5)),
      p95: r2(q(0.95)),
      p99: r2(q(0.99)),
      max: r2(latencies[latencies.length - 1] ?? NaN),
      // the generator shares the machine's cores with what it measures
      generatorCores: r2((process.cpuUsage().user + process.cpuUsage().system) / 1e6 / elapsed),
    }),
  );
  for (const c of clients) c.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
