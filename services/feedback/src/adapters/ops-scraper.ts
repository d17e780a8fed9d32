import type { Logger } from '@reco/platform';
import { histogramBuckets, parsePrometheusText, sumMatching } from '../domain/prometheus-text';

export interface ServiceOps {
  service: string;
  url: string;
  up: boolean;
  error?: string;
  /** [time ms, summed consumer lag][] (gauges named *_consumer_lag), newest last. */
  lag: [number, number][];
  /** [time ms, per second][] of the counters matching the throughput pattern, summed. */
  throughput: [number, number][];
  /** The request-latency histogram, if the service has one: cumulative [upper bound s, count][]. */
  latency: { name: string; buckets: [number, number][] } | null;
}

const HISTORY = 180;
const LAG = /_consumer_lag$/;

/**
 * Reads other services' /metrics (FEEDBACK_SCRAPE_TARGETS) on a timer, server-side so the
 * dashboard needs no cross-origin access: consumer lag, throughput and the inference
 * request-latency histogram. `self` adds this process's own registry the same way.
 */
export class OpsScraper {
  private readonly state = new Map<string, ServiceOps & { lastTotal?: number; lastAt?: number }>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly targets: { service: string; url: string }[],
    private readonly intervalMs: number,
    private readonly latencyPattern: RegExp,
    private readonly throughputPattern: RegExp,
    private readonly logger: Logger,
    private readonly self?: { service: string; metrics: () => Promise<string> },
  ) {
    for (const t of targets)
      this.state.set(t.service, { ...t, up: false, lag: [], throughput: [], latency: null });
    if (self)
      this.state.set(self.service, {
        service: self.service,
        url: '/metrics',
        up: true,
        lag: [],
        throughput: [],
        latency: null,
      });
  }

  start(): void {
    void this.scrapeAll();
    this.timer = setInterval(() => void this.scrapeAll(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  snapshot(): ServiceOps[] {
    return [...this.state.values()].map(({ lastTotal: _t, lastAt: _a, ...rest }) => rest);
  }

  async scrapeAll(): Promise<void> {
    const jobs = this.targets.map(async (t) => {
      try {
        const res = await fetch(t.url, { signal: AbortSignal.timeout(Math.min(2000, this.intervalMs)) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        this.record(t.service, await res.text());
      } catch (err) {
        const s = this.state.get(t.service)!;
        s.up = false;
        s.error = (err as Error).message;
        this.logger.debug({ service: t.service, err: s.error }, 'scrape failed');
      }
    });
    if (this.self) jobs.push(this.self.metrics().then((text) => this.record(this.self!.service, text)));
    await Promise.all(jobs);
  }

  private record(service: string, text: string): void {
    const s = this.state.get(service)!;
    const samples = parsePrometheusText(text);
    const now = Date.now();
    s.up = true;
    delete s.error;
    const lag = sumMatching(samples, LAG);
    if (lag !== null) push(s.lag, [now, lag]);
    const total = sumMatching(samples, this.throughputPattern);
    if (total !== null) {
      if (s.lastTotal !== undefined && s.lastAt !== undefined && now > s.lastAt)
        push(s.throughput, [now, Math.max(0, ((total - s.lastTotal) * 1000) / (now - s.lastAt))]);
      s.lastTotal = total;
      s.lastAt = now;
    }
    s.latency = histogramBuckets(samples, this.latencyPattern) ?? s.latency;
  }
}

function push<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > HISTORY) list.splice(0, list.length - HISTORY);
}
