/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text format (what every service's /metrics serves); comments and bad lines are skipped. */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2])
      for (const l of m[2].matchAll(LABEL))
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (!Number.isNaN(value)) out.push({ name: m[1], labels, value });
  }
  return out;
}

/** A histogram's cumulative buckets summed over its label sets: [upper bound, count][] ascending. */
export function histogramBuckets(
  samples: Sample[],
  pattern: RegExp,
): { name: string; buckets: [number, number][] } | null {
  const byName = new Map<string, Map<number, number>>();
  for (const s of samples) {
    if (!s.name.endsWith('_bucket') || s.labels.le === undefined) continue;
    const family = s.name.slice(0, -'_bucket'.length);
    if (!pattern.test(family)) continue;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    const buckets = byName.get(family) ?? new Map<number, number>();
    byName.set(family, buckets);
    buckets.set(le, (buckets.get(le) ?? 0) + s.value);
  }
  const first = [...byName.entries()].sort(([a], [b]) => a.localeCompare(b))[0];
  if (!first) return null;
  return { name: first[0], buckets: [...first[1].entries()].sort(([a], [b]) => a - b) };
}

/** Sum of the samples whose names match. */
export function sumMatching(samples: Sample[], pattern: RegExp): number | null {
  let sum = 0;
  let any = false;
  for (const s of samples) {
    if (pattern.test(s.name)) {
      sum += s.value;
      any = true;
    }
  }
  return any ? sum : null;
}
