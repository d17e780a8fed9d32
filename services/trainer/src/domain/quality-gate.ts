/** Holdout metrics of one model version. */
export interface HoldoutMetrics {
  ndcg10: number;
  hr10: number;
  cases: number;
}

export interface GateDecision {
  publish: boolean;
  reason: string;
}

/**
 * Publishes a candidate only if it is not worse than the live version beyond `tolerance`
 * (relative, on NDCG@10 of the same holdout), and never one that learned nothing.
 */
export function qualityGate(
  candidate: HoldoutMetrics,
  live: HoldoutMetrics | undefined,
  options: { tolerance: number; minCases: number },
): GateDecision {
  if (candidate.cases < options.minCases)
    return { publish: false, reason: `holdout has ${candidate.cases} cases, fewer than ${options.minCases}` };
  if (!live) return { publish: true, reason: 'no live version yet' };
  const floor = live.ndcg10 * (1 - options.tolerance);
  const fmt = (x: number) => x.toFixed(4);
  if (candidate.ndcg10 >= floor)
    return {
      publish: true,
      reason: `candidate NDCG@10 ${fmt(candidate.ndcg10)} >= live ${fmt(live.ndcg10)} x (1 - ${options.tolerance})`,
    };
  return {
    publish: false,
    reason: `candidate NDCG@10 ${fmt(candidate.ndcg10)} < live ${fmt(live.ndcg10)} x (1 - ${options.tolerance}) = ${fmt(floor)}`,
  };
}
