/**
 * Progress on a stream (stderr): a redrawn bar when the stream is a TTY, otherwise plain lines
 * at most every `intervalMs` (and at the end).
 */
export class Progress {
  private readonly tty: boolean;
  private lastDraw = 0;
  private readonly started = Date.now();
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly intervalMs = 2000,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  /** `fraction` in [0,1] or undefined; `detail` e.g. '1200/22363 users'. */
  update(fraction: number | undefined, detail = '', final = false): void {
    const now = Date.now();
    const elapsed = ((now - this.started) / 1000).toFixed(1);
    if (this.tty) {
      if (!final && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const width = 30;
      const f = fraction === undefined ? undefined : Math.min(1, Math.max(0, fraction));
      const bar =
        f === undefined
          ? ''
          : `[${'#'.repeat(Math.round(f * width)).padEnd(width, '.')}] ${(f * 100).toFixed(0).padStart(3)}% `;
      const cols = this.stream.columns || 100;
      const text = `${this.label} ${bar}${detail} ${elapsed}s`.slice(0, Math.max(10, cols - 1));
      this.stream.write(`\r\x1b[K${text}`);
      this.drawn = true;
      if (final) {
        this.stream.write('\n');
        this.drawn = false;
      }
    } else {
      if (!final && this.lastDraw !== 0 && now - this.lastDraw < this.intervalMs) return;
      this.lastDraw = now;
      const pct = fraction === undefined ? '' : ` ${(fraction * 100).toFixed(0)}%`;
      this.stream.write(`${this.label}:${pct} ${detail} (${elapsed}s)\n`);
    }
  }

  /** Plain message (ends a TTY bar line first). */
  log(message: string): void {
    if (this.tty && this.drawn) {
      this.stream.write('\n');
      this.drawn = false;
    }
    this.stream.write(message + '\n');
  }
}
