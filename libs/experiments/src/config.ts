import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * What an arm serves: `popular` (the popularity baseline), `live` (whichever model version
 * the trainer published last) or an exact model version such as `sasrec-20261128T101500Z`.
 */
export type ArmModel = { kind: 'popular' } | { kind: 'live' } | { kind: 'version'; version: string };

export interface Arm {
  /** Stamped on every impression as `experiment_arm`; a metric label, so short and plain. */
  name: string;
  /** `popular`, `live` or an exact model version. */
  model: string;
  /** Share of users in [0, 1]; the shares of an experiment add up to 1. */
  share: number;
}

export interface Experiment {
  /** Names the experiment in logs and on the dashboard. */
  id: string;
  /** Mixed into the assignment hash: a new salt reshuffles users between arms. Defaults to the id. */
  salt: string;
  /** The arm the others are compared with; defaults to the first arm. */
  control: string;
  arms: Arm[];
}

/** Used when no experiment is configured: everyone gets the live model. */
export const DEFAULT_EXPERIMENT: Experiment = Object.freeze({
  id: 'none',
  salt: 'none',
  control: 'live',
  arms: [{ name: 'live', model: 'live', share: 1 }],
}) as Experiment;

const SHARE_SUM_TOLERANCE = 1e-6;

const armSchema = z.object({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 letters, digits, ".", "_" or "-"'),
  model: z.string().trim().min(1, "must be 'popular', 'live' or a model version"),
  share: z.number().gt(0, 'must be greater than 0').max(1, 'must be at most 1'),
});

const experimentSchema = z
  .object({
    id: z.string().trim().min(1, 'must not be empty'),
    salt: z.string().min(1, 'must not be empty').optional(),
    control: z.string().optional(),
    arms: z.array(armSchema).min(1, 'needs at least one arm'),
  })
  .strict()
  .superRefine((exp, ctx) => {
    const seen = new Set<string>();
    exp.arms.forEach((arm, i) => {
      if (seen.has(arm.name))
        ctx.addIssue({ code: 'custom', path: ['arms', i, 'name'], message: `"${arm.name}" is used twice` });
      seen.add(arm.name);
    });
    const sum = exp.arms.reduce((s, a) => s + a.share, 0);
    if (exp.arms.length > 0 && Math.abs(sum - 1) > SHARE_SUM_TOLERANCE)
      ctx.addIssue({
        code: 'custom',
        path: ['arms'],
        message: `shares add up to ${Number(sum.toFixed(6))}; they must add up to 1`,
      });
    if (exp.control !== undefined && !seen.has(exp.control))
      ctx.addIssue({
        code: 'custom',
        path: ['control'],
        message: `"${exp.control}" is not one of the arms (${[...seen].join(', ')})`,
      });
  });

/** Thrown for an invalid experiment; `problems` name each field, e.g. `arms[1].share: must be greater than 0`. */
export class ExperimentConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid experiment configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ExperimentConfigError';
  }
}

function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(experiment)';
}

/** Problems of an experiment given as JSON text or a parsed object; empty when valid. */
function problemsOf(input: unknown): { experiment?: Experiment; problems: string[] } {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      return { problems: [`not valid JSON: ${(err as Error).message}`] };
    }
  }
  const parsed = experimentSchema.safeParse(value);
  if (!parsed.success)
    return { problems: parsed.error.issues.map((i) => `${fieldPath(i.path)}: ${i.message}`) };
  const e = parsed.data;
  return {
    experiment: {
      id: e.id,
      salt: e.salt ?? e.id,
      control: e.control ?? e.arms[0].name,
      arms: e.arms.map((a) => ({ name: a.name, model: a.model, share: a.share })),
    },
    problems: [],
  };
}

/** Parses and validates an experiment (JSON text or object); throws ExperimentConfigError naming every bad field. */
export function parseExperiment(input: unknown): Experiment {
  const { experiment, problems } = problemsOf(input);
  if (!experiment) throw new ExperimentConfigError(problems);
  return experiment;
}

/**
 * A zod setting for a service's config schema: JSON text of an experiment. Problems are
 * reported under the variable's name, e.g. `RECO_EXPERIMENT: arms[1].share: must be greater than 0`.
 */
export function experimentSetting() {
  return z.string().transform((text, ctx): Experiment => {
    const { experiment, problems } = problemsOf(text);
    for (const message of problems) ctx.addIssue({ code: 'custom', message });
    return experiment ?? (z.NEVER as never);
  });
}

/** Settings to spread into a service's config schema. */
export const experimentSettings = {
  RECO_EXPERIMENT: experimentSetting()
    .optional()
    .describe(
      'A/B experiment as JSON: {"id","salt"?,"control"?,"arms":[{"name","model":"popular"|"live"|<version>,"share"}]}',
    ),
  RECO_EXPERIMENT_FILE: z.string().optional().describe('path of a JSON file holding the experiment instead'),
};

/**
 * The experiment named by the settings: RECO_EXPERIMENT, else the file RECO_EXPERIMENT_FILE,
 * else DEFAULT_EXPERIMENT (one arm, the live model).
 */
export function experimentFromSettings(settings: {
  RECO_EXPERIMENT?: Experiment;
  RECO_EXPERIMENT_FILE?: string;
}): Experiment {
  if (settings.RECO_EXPERIMENT) return settings.RECO_EXPERIMENT;
  if (settings.RECO_EXPERIMENT_FILE) {
    let text: string;
    try {
      text = readFileSync(settings.RECO_EXPERIMENT_FILE, 'utf8');
    } catch (err) {
      throw new ExperimentConfigError([`RECO_EXPERIMENT_FILE: cannot read: ${(err as Error).message}`]);
    }
    const { experiment, problems } = problemsOf(text);
    if (!experiment)
      throw new ExperimentConfigError(
        problems.map((p) => `RECO_EXPERIMENT_FILE ${settings.RECO_EXPERIMENT_FILE}: ${p}`),
      );
    return experiment;
  }
  return DEFAULT_EXPERIMENT;
}

/** What an arm serves, as a tagged value. */
export function armModel(arm: Arm): ArmModel {
  if (arm.model === 'popular') return { kind: 'popular' };
  if (arm.model === 'live') return { kind: 'live' };
  return { kind: 'version', version: arm.model };
}
