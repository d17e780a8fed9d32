import { createHash } from 'node:crypto';
import type { Arm, Experiment } from './config';

const TWO_POW_48 = 2 ** 48;

/**
 * A user's position in [0, 1): the first 48 bits of SHA-256(salt, NUL, unit id). Stable across
 * processes, replicas, restarts and languages; independent between experiments with
 * different salts.
 */
export function bucketOf(salt: string, unitId: string): number {
  const digest = createHash('sha256').update(salt).update('\u0000').update(unitId).digest();
  return digest.readUIntBE(0, 6) / TWO_POW_48;
}

/**
 * The arm of a unit: the pseudonymized user id (anonymous requests: pass the session or the
 * request id, which is stable only for that session or request). Arms take consecutive
 * slices of [0, 1) in configuration order, each as wide as its share.
 */
export function assignArm(experiment: Experiment, unitId: string): Arm {
  const u = bucketOf(experiment.salt, unitId);
  let upper = 0;
  for (const arm of experiment.arms) {
    upper += arm.share;
    if (u < upper) return arm;
  }
  // Shares add up to 1 within a rounding error; the last arm takes the remainder.
  return experiment.arms[experiment.arms.length - 1];
}

/** Assigns arms with the per-arm work done once (what a hot path should hold). */
export class ArmAssigner {
  private readonly uppers: number[];
  constructor(readonly experiment: Experiment) {
    let upper = 0;
    this.uppers = experiment.arms.map((a) => (upper += a.share));
  }
  assign(unitId: string): Arm {
    // one arm (no experiment running): no hash on the hot path
    if (this.experiment.arms.length === 1) return this.experiment.arms[0];
    const u = bucketOf(this.experiment.salt, unitId);
    const i = this.uppers.findIndex((upper) => u < upper);
    return this.experiment.arms[i === -1 ? this.experiment.arms.length - 1 : i];
  }
}
