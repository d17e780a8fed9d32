export interface MicroBatcherOptions {
  /** Flush when this many requests are waiting. */
  maxBatch: number;
  /**
   * Longest a request waits for others (ms). 0 = collect what arrives in the current turn of
   * the event loop (setImmediate), the lowest-latency setting.
   */
  maxWaitMs: number;
  /** Called after every flush with the batch size and its run time (seconds). */
  onFlush?: (size: number, seconds: number) => void;
}

interface Pending<I, O> {
  input: I;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/**
 * Dynamic micro-batching: requests that arrive close together are run as one call of `run`
 * (one model call for many users: the shape a GPU needs, and on CPU it amortizes the per-call
 * cost). `run` gets the inputs in arrival order and returns one output per input.
 */
export class MicroBatcher<I, O> {
  private queue: Pending<I, O>[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  constructor(
    private readonly run: (inputs: I[]) => O[] | Promise<O[]>,
    private readonly options: MicroBatcherOptions,
  ) {}

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (this.queue.length >= this.options.maxBatch) this.flush();
      else if (!this.timer)
        this.timer =
          this.options.maxWaitMs > 0
            ? setTimeout(() => this.flush(), this.options.maxWaitMs)
            : setImmediate(() => this.flush());
    });
  }

  get waiting(): number {
    return this.queue.length;
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
      this.timer = undefined;
    }
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const started = process.hrtime.bigint();
    const done = (outputs: O[]) => {
      this.options.onFlush?.(batch.length, Number(process.hrtime.bigint() - started) / 1e9);
      if (outputs.length !== batch.length) {
        const err = new Error(`micro-batch returned ${outputs.length} outputs for ${batch.length} inputs`);
        for (const p of batch) p.reject(err);
        return;
      }
      batch.forEach((p, i) => p.resolve(outputs[i]));
    };
    const fail = (err: unknown) => {
      for (const p of batch) p.reject(err);
    };
    try {
      const result = this.run(batch.map((p) => p.input));
      if (result instanceof Promise) result.then(done, fail);
      else done(result);
    } catch (err) {
      fail(err);
    }
  }
}
