/**
 * Open-loop gRPC load generator (a separate process, so it does not share the event loop of
 * the server): sends Recommend at a fixed rate regardless of responses, from a 2 ms timer
 * (no busy spin), and measures each latency from the request's scheduled time (no
 * coordinated omission). It speaks gRPC over node:http2 itself (two HTTP/2 connections, a
 * unary call per stream, grpc-status from the trailers) rather than through a grpc-js client:
 * the generator shares the machine's two cores with what it measures, and the grpc-js client
 * cost about twice the CPU per call. A response counts as an answer when its trailers carry
 * grpc-status 0 and its body is one complete gRPC message; the first answer of each run is
 * also decoded and must hold k items. Args (JSON in argv[2]): target, rate, warmup, seconds, users, k, and optionally latencyDump.
 * The warm-up runs in this same process, at the same rate, just before the measured seconds:
 * a generator started cold spent its first seconds compiling its own gRPC client, and those
 * seconds were often the step's worst. Prints `{"phase":"measuring"}` when the warm-up is
 * over, then one JSON line with p50/p95/p99/max (ms), errors and the achieved rate of the
 * measured seconds.
 */
import { writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import { RankedItems, RecommendRequest, RecommenderService } from '@reco/contracts';

interface Args {
  target: string;
  rate: number;
  warmup: number;
  seconds: number;
  users: number;
  k: number;
  userPrefix: string;
  /** When set, the measured calls' scheduled times and latencies (ms) go to this file, one per line. */
  latencyDump?: string;
}

interface Run {
  latencies: number[];
  /** Each answered call's scheduled time (ms from the run's start), in the order of `latencies`. */
  scheduledAt: number[];
  /** The run's start, Unix ms (to line it up with other records of the machine). */
  startedAt: number;
  /** The worst latency of each second of the run (by scheduled time). */
  worstBySecond: number[];
  errors: number;
  /** What went wrong with the first failed call, if any. */
  firstError: string | undefined;
  elapsed: number;
}

/** One unary call's request: the gRPC message frame (uncompressed flag, length, protobuf). */
function requestFrame(userId: string, k: number): Buffer {
  const body = RecommendRequest.encode({ userId, k, context: undefined, filters: undefined }).finish();
  const frame = Buffer.allocUnsafe(5 + body.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  return frame;
}

const DEADLINE_MS = 5000;

const REQUEST_HEADERS = {
  [http2.constants.HTTP2_HEADER_METHOD]: 'POST',
  [http2.constants.HTTP2_HEADER_PATH]: RecommenderService.recommend.path,
  [http2.constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
  te: 'trailers',
  'grpc-timeout': `${DEADLINE_MS}m`,
};

/**
 * One HTTP/2 connection to the target, opened again when the server has closed it (as a gRPC
 * channel reconnects). Its session memory is unbounded, as grpc-js sets its own: under
 * overload thousands of calls are in flight, and Node's default 10 MB would end the session.
 */
class Connection {
  private session: http2.ClientHttp2Session;

  constructor(private readonly target: string) {
    this.session = this.connect();
  }

  private connect(): http2.ClientHttp2Session {
    const session = http2.connect(`http://${this.target}`, { maxSessionMemory: Number.MAX_SAFE_INTEGER });
    session.on('error', () => undefined); // each call reports its own failure
    return session;
  }

  get current(): http2.ClientHttp2Session {
    if (this.session.destroyed || this.session.closed) this.session = this.connect();
    return this.session;
  }

  close(): void {
    this.session.close();
  }
}

/** A call in flight: `expire` ends it as failed once its deadline has passed. */
interface InFlight {
  deadline: number;
  finished: boolean;
  expire: () => void;
}

/** `expire` of a finished call: defined out here, so that it keeps no call's scope alive. */
const expired = () => undefined;

/**
 * One Recommend call; `done` gets undefined for an answer (grpc-status 0 and one complete
 * message), else why it failed. `check` asks for the answer's items to be decoded and counted.
 */
function call(
  connection: Connection,
  frame: Buffer,
  k: number,
  check: boolean,
  done: (error: string | undefined) => void,
): InFlight {
  let status: string | undefined;
  const chunks: Buffer[] = [];
  const flight: InFlight = {
    deadline: performance.now() + DEADLINE_MS,
    finished: false,
    expire: expired,
  };
  const finish = (error: string | undefined) => {
    if (flight.finished) return;
    flight.finished = true;
    // The deadline sweep's list keeps finished calls for up to 10,000 calls; `expire` would keep
    // this call's whole scope (its stream, its answer) alive there, promoted to the old
    // generation, and the generator's major GCs (20-40 ms pauses every ~10 s at 1,000/s)
    // would count as latency of the calls they delay.
    flight.expire = expired;
    done(error);
  };
  let stream: http2.ClientHttp2Stream;
  try {
    stream = connection.current.request(REQUEST_HEADERS, { endStream: false });
  } catch (err) {
    finish(err instanceof Error ? err.message : String(err));
    return flight;
  }
  flight.expire = () => {
    finish('deadline exceeded');
    stream.close(http2.constants.NGHTTP2_CANCEL);
  };
  stream.on('response', (headers) => {
    // a trailers-only answer (an error) carries its status in the headers
    if (headers['grpc-status'] !== undefined) status = String(headers['grpc-status']);
  });
  stream.on('trailers', (trailers) => (status = String(trailers['grpc-status'])));
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('error', (err) => finish(err.message));
  stream.on('close', () => {
    if (status !== '0') return finish(`grpc-status ${status ?? 'missing'}`);
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    if (body.length < 5 || body.readUInt32BE(1) !== body.length - 5) return finish('incomplete message');
    if (check) {
      const items = RankedItems.decode(body.subarray(5)).items.length;
      if (items !== k) return finish(`${items} items, asked for ${k}`);
    }
    finish(undefined);
  });
  stream.end(frame);
  return flight;
}

/** Sends `rate` requests per second for `seconds` and waits for every answer. */
function openLoop(a: Args, connections: Connection[], seconds: number): Promise<Run> {
  const run: Run = {
    latencies: [],
    scheduledAt: [],
    startedAt: 0,
    worstBySecond: new Array<number>(Math.ceil(seconds)).fill(0),
    errors: 0,
    firstError: undefined,
    elapsed: 0,
  };
  let sent = 0;
  let done = 0;
  const total = Math.round(a.rate * seconds);
  // calls in the order sent, so the oldest is first: the deadline sweep looks only at the front
  const inFlight: InFlight[] = [];
  let oldest = 0;
  const t0 = performance.now();
  run.startedAt = performance.timeOrigin + t0;
  return new Promise<Run>((resolve) => {
    const sweep = setInterval(() => {
      const now = performance.now();
      for (; oldest < inFlight.length; oldest++) {
        const flight = inFlight[oldest]!;
        if (!flight.finished && flight.deadline >= now) break;
        if (!flight.finished) flight.expire();
      }
      if (oldest > 10_000) {
        inFlight.splice(0, oldest);
        oldest = 0;
      }
    }, 100);
    const fire = (scheduled: number) => {
      const n = sent++;
      const user = `${a.userPrefix}${Math.floor(Math.random() * a.users)}`;
      const flight = call(
        connections[n % connections.length]!,
        requestFrame(user, a.k),
        a.k,
        n === 0,
        (error) => {
          if (error !== undefined) {
            run.errors++;
            run.firstError ??= error;
          } else {
            const latency = performance.now() - scheduled;
            run.latencies.push(latency);
            const at = scheduled - t0;
            // kept only when asked for: the generator shares the cores it measures
            if (a.latencyDump) run.scheduledAt.push(at);
            const second = Math.min(run.worstBySecond.length - 1, Math.floor(at / 1000));
            run.worstBySecond[second] = Math.max(run.worstBySecond[second], latency);
          }
          if (++done === total) {
            clearInterval(sweep);
            run.elapsed = (performance.now() - t0) / 1000;
            resolve(run);
          }
        },
      );
      inFlight.push(flight);
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
  // two connections, as two channels of a gateway would
  const connections = [0, 1].map(() => new Connection(a.target));
  if (a.warmup > 0) await openLoop(a, connections, a.warmup);
  // the caller reads the service's metrics and the machine's CPU now, to cover exactly what follows
  console.log(JSON.stringify({ phase: 'measuring' }));
  const cpuBefore = process.cpuUsage();
  const { latencies, scheduledAt, startedAt, worstBySecond, errors, firstError, elapsed } = await openLoop(
    a,
    connections,
    a.seconds,
  );
  const cpu = process.cpuUsage(cpuBefore);
  if (a.latencyDump)
    writeFileSync(
      a.latencyDump,
      `# started at ${startedAt.toFixed(0)} (Unix ms); scheduled ms from then, latency ms\n` +
        latencies.map((ms, i) => `${scheduledAt[i]!.toFixed(2)} ${ms.toFixed(2)}\n`).join(''),
    );
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
      firstError,
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
  for (const c of connections) c.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
