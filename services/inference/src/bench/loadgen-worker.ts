/**
 * Open-loop gRPC load generator (a separate process, so it does not share the event loop of
 * the server): sends Recommend at a fixed rate regardless of responses, from a 2 ms timer
 * (no busy spin), and measures each latency from the request's scheduled time (no
 * coordinated omission). Args (JSON in argv[2]): target, rate, warmup, seconds, users, k.
 * The warm-up runs in this same process, at the same rate, just before the measured seconds:
 * a generator started cold spent its first seconds compiling its own gRPC client, and those
 * seconds were often the step's worst. Prints `{"phase":"measuring"}` when the warm-up is
 * over, then one JSON line with p50/p95/p99/max (ms), errors and the achieved rate of the
 * measured seconds.
 */
import * as grpc from '@grpc/grpc-js';
import { RecommenderClient } from '@reco/contracts';

interface Args {
  target: string;
  rate: number;
  warmup: number;
  seconds: number;
  users: number;
  k: number;
  userPrefix: string;
}

interface Run {
  latencies: number[];
  /** The worst latency of each second of the run (by scheduled time). */
  worstBySecond: number[];
  errors: number;
  elapsed: number;
}

/** Sends `rate` requests per second for `seconds` and waits for every answer. */
function openLoop(a: Args, clients: RecommenderClient[], seconds: number): Promise<Run> {
  const run: Run = {
    latencies: [],
    worstBySecond: new Array<number>(Math.ceil(seconds)).fill(0),
    errors: 0,
    elapsed: 0,
  };
  let sent = 0;
  let done = 0;
  const total = Math.round(a.rate * seconds);
  const t0 = performance.now();
  return new Promise<Run>((resolve) => {
    const fire = (scheduled: number) => {
      const n = sent++;
      const user = `${a.userPrefix}${Math.floor(Math.random() * a.users)}`;
      clients[n % 2].recommend(
        { userId: user, k: a.k, context: undefined, filters: undefined },
        new grpc.Metadata(),
        { deadline: Date.now() + 5000 },
        (err) => {
          if (err) run.errors++;
          else {
            const latency = performance.now() - scheduled;
            run.latencies.push(latency);
            const second = Math.min(run.worstBySecond.length - 1, Math.floor((scheduled - t0) / 1000));
            run.worstBySecond[second] = Math.max(run.worstBySecond[second], latency);
          }
          if (++done === total) {
            run.elapsed = (performance.now() - t0) / 1000;
            resolve(run);
          }
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
}

async function main() {
  const a = JSON.parse(process.argv[2]) as Args;
  const clients = [0, 1].map(
    (i) =>
      new RecommenderClient(a.target, grpc.credentials.createInsecure(), {
        'grpc.channel_id': i,
      } as grpc.ClientOptions),
  );
  if (a.warmup > 0) await openLoop(a, clients, a.warmup);
  // the caller reads the service's metrics and the machine's CPU now, to cover exactly what follows
  console.log(JSON.stringify({ phase: 'measuring' }));
  const cpuBefore = process.cpuUsage();
  const { latencies, worstBySecond, errors, elapsed } = await openLoop(a, clients, a.seconds);
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((x, y) => x - y);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const requests = Math.round(a.rate * a.seconds);
  console.log(
    JSON.stringify({
      rate: a.rate,
      achieved: r2(requests / elapsed),
      requests,
      errors,
      p50: r2(q(0.5)),
      p95: r2(q(0.95)),
      p99: r2(q(0.99)),
      max: r2(latencies[latencies.length - 1] ?? NaN),
      // a steady tail or a few stalls? (one 100 ms stall at 1,000/s is 1% of a 30 s step)
      worstSeconds: worstBySecond
        .map((ms, second) => [second, r2(ms)])
        .sort((x, y) => y[1] - x[1])
        .slice(0, 3),
      // the generator shares the machine's cores with what it measures
      generatorCores: r2((cpu.user + cpu.system) / 1e6 / elapsed),
    }),
  );
  for (const c of clients) c.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
