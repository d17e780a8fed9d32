/**
 * Interval statistics for comparing arms on proportions (CTR, add-to-cart rate, conversion):
 * Wilson score intervals for one arm, Newcombe's hybrid score interval (his method 10) for
 * the difference between two, and a pooled two-proportion z test.
 */

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

/** z for a two-sided level, e.g. 0.95 → 1.959964. */
export function zFor(level: number): number {
  return normalQuantile(1 - (1 - level) / 2);
}

/** Wilson score interval of successes / n; [0, 1] when n = 0. */
export function wilson(successes: number, n: number, level = 0.95): Interval {
  if (n <= 0) return { estimate: 0, low: 0, high: 1 };
  const z = zFor(level);
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { estimate: p, low: Math.max(0, center - half), high: Math.min(1, center + half) };
}

/**
 * Interval of p_b − p_a (treatment minus control) by Newcombe's hybrid score method: good
 * coverage with small counts and rates near 0, where the plain normal interval is not.
 */
export function differenceInterval(
  successesA: number,
  nA: number,
  successesB: number,
  nB: number,
  level = 0.95,
): Interval {
  const a = wilson(successesA, nA, level);
  const b = wilson(successesB, nB, level);
  const d = b.estimate - a.estimate;
  return {
    estimate: d,
    low: d - Math.sqrt((b.estimate - b.low) ** 2 + (a.high - a.estimate) ** 2),
    high: d + Math.sqrt((b.high - b.estimate) ** 2 + (a.estimate - a.low) ** 2),
  };
}

/** Pooled two-proportion z test of p_b = p_a; two-sided p-value (1 when either n is 0). */
export function twoProportionTest(
  successesA: number,
  nA: number,
  successesB: number,
  nB: number,
): { z: number; pValue: number } {
  if (nA <= 0 || nB <= 0) return { z: 0, pValue: 1 };
  const pooled = (successesA + successesB) / (nA + nB);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB));
  if (se === 0) return { z: 0, pValue: 1 };
  const z = (successesB / nB - successesA / nA) / se;
  return { z, pValue: 2 * (1 - normalCdf(Math.abs(z))) };
}

/** Standard normal CDF (Zelen & Severo 26.2.17, |error| < 7.5e-8). */
export function normalCdf(x: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(x));
  const poly =
    t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  const tail = (Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI)) * poly;
  return x >= 0 ? 1 - tail : tail;
}

/** Standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (p <= 0 || p >= 1) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}
