import type { Recommender } from './recommender';
import { PopularRecommender } from './models/popular';
import { ItemKnnRecommender } from './models/itemknn';

export interface ModelContext {
  seed: number;
  /** Free-form `key=value` options from the CLI (`--model-opt key=value`). */
  options: Readonly<Record<string, string>>;
}

export type ModelFactory = (ctx: ModelContext) => Recommender | Promise<Recommender>;

export interface ModelEntry {
  name: string;
  description: string;
  create: ModelFactory;
}

/**
 * Model names the project plans but that live in other packages; until such a package
 * registers them, asking for them gives a "not available" error rather than "unknown".
 */
export const PLANNED_MODELS: Readonly<Record<string, string>> = {
  sasrec: 'the SASRec transformer (model library, TensorFlow.js)',
  served: 'the model version currently served by the inference service',
};

export class ModelNotAvailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelNotAvailableError';
  }
}

/** Name -> factory. Other packages add models with {@link registerModel}. */
export class ModelRegistry {
  private readonly entries = new Map<string, ModelEntry>();

  register(name: string, create: ModelFactory, description = '', opts: { replace?: boolean } = {}): void {
    if (!/^[a-z][a-z0-9_.-]*$/.test(name)) throw new Error(`invalid model name '${name}'`);
    if (this.entries.has(name) && !opts.replace) throw new Error(`model '${name}' is already registered`);
    this.entries.set(name, { name, create, description });
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  list(): ModelEntry[] {
    return this.names().map((n) => this.entries.get(n)!);
  }

  get(name: string): ModelEntry {
    const entry = this.entries.get(name);
    if (entry) return entry;
    const registered = this.names().join(', ');
    if (name in PLANNED_MODELS) {
      throw new ModelNotAvailableError(
        `model '${name}' (${PLANNED_MODELS[name]}) is not available: no package has registered it yet. ` +
          `Registered models: ${registered}. A model package registers it with registerModel() from ` +
          `@reco/evaluation and is loaded with --plugin <module> or RECO_EVAL_PLUGINS.`,
      );
    }
    throw new ModelNotAvailableError(`unknown model '${name}' (--model); registered models: ${registered}`);
  }

  async create(name: string, ctx: ModelContext): Promise<Recommender> {
    return this.get(name).create(ctx);
  }
}

function intOption(ctx: ModelContext, key: string): number | undefined {
  const v = ctx.options[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--model-opt ${key}=${v}: expected a positive integer`);
  return n;
}

/** The process-wide registry used by the CLI, with the built-in baselines. */
export const modelRegistry = new ModelRegistry();
modelRegistry.register('popular', () => new PopularRecommender(), 'interaction count in the training data');
modelRegistry.register(
  'itemknn',
  (ctx) =>
    new ItemKnnRecommender({ window: intOption(ctx, 'window'), lastItems: intOption(ctx, 'lastItems') }),
  'order-aware item-to-item transitions (window 3, last 3 items), popularity tie-breaker',
);

/** Registers a model in the process-wide registry (for model packages). */
export function registerModel(
  name: string,
  create: ModelFactory,
  description = '',
  opts: { replace?: boolean } = {},
): void {
  modelRegistry.register(name, create, description, opts);
}
