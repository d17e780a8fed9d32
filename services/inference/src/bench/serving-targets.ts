/**
 * The serving targets of issue #5, read off bench:serve's steps (pure, so that the verdict the
 * bench prints is the one a reader would compute from its table):
 * - at 1,000 requests/s, `Recommend`'s p99 at most 2× the floor's, with zero errors;
 * - the highest step where `Recommend` keeps p99 under 50 ms (and answers every call) is at
 *   least half the floor's highest such step.
 */
export interface StepResult {
  target: string;
  rate: number;
  p99: number;
  errors: number;
}

export interface ServingTargets {
  /** undefined when the run had no 1,000/s step for both targets */
  p99AtThousand?: { floor: number; recommend: number; ratio: number; errors: number; met: boolean };
  /**
   * Each target's highest step under the bound (0 when none was). `topRate` is the highest rate
   * the run measured: a floor that held it might have held more, so the verdict is provisional.
   */
  highestUnder50ms: { floor: number; recommend: number; topRate: number; met: boolean | undefined };
}

export const P99_BOUND_MS = 50;
export const MAX_P99_RATIO = 2;
export const RATIO_RATE = 1000;

export function servingTargets(steps: readonly StepResult[]): ServingTargets {
  const at = (target: string, rate: number) => steps.find((s) => s.target === target && s.rate === rate);
  const floor = at('floor', RATIO_RATE);
  const recommend = at('recommend', RATIO_RATE);
  const highest = (target: string) =>
    Math.max(
      0,
      ...steps
        .filter((s) => s.target === target && s.errors === 0 && s.p99 < P99_BOUND_MS)
        .map((s) => s.rate),
    );
  const floorHighest = highest('floor');
  const recommendHighest = highest('recommend');
  return {
    ...(floor && recommend
      ? {
          p99AtThousand: {
            floor: floor.p99,
            recommend: recommend.p99,
            ratio: Math.round((recommend.p99 / floor.p99) * 100) / 100,
            errors: recommend.errors,
            met: recommend.p99 <= MAX_P99_RATIO * floor.p99 && recommend.errors === 0,
          },
        }
      : {}),
    highestUnder50ms: {
      floor: floorHighest,
      recommend: recommendHighest,
      topRate: Math.max(0, ...steps.map((s) => s.rate)),
      // with no floor step under the bound the target says nothing
      met: floorHighest > 0 ? recommendHighest >= floorHighest / 2 : undefined,
    },
  };
}
