#!/usr/bin/env node
/**
 * reco evaluate --data FILE [--format seq|pairs] [--protocol full|sampled100] --model NAME
 *               [--seed N] [--max-train-minutes M] [--json] [--plugin MODULE]... [--model-opt k=v]...
 *               [--fit-on train|train+valid] [--target test|validation] [--batch-size N]
 *               [--ties average-floor|average-fractional|expected]
 * reco convert  --data FILE [--format seq|pairs] --to seq|pairs --out FILE
 * reco models   [--plugin MODULE]...
 */
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DATASET_FORMATS, formatDataset, loadDataset, type DatasetFormat } from './dataset';
import { PROTOCOLS, type Protocol } from './evaluate';
import { DEFAULT_TIE_MODE, TIE_MODES, type TieMode } from './metrics';
import { Progress } from './progress';
import { modelRegistry, ModelNotAvailableError } from './registry';
import { resolveFitOn, runEvaluation, type EvaluationReport } from './run';

const USAGE = `usage:
  reco evaluate --data FILE --model NAME [--format seq|pairs] [--protocol full|sampled100]
                [--seed N] [--max-train-minutes M] [--json] [--plugin MODULE]...
                [--model-opt KEY=VALUE]... [--fit-on train|train+valid]
                [--target test|validation] [--batch-size N]
                [--ties average-floor|average-fractional|expected]
  reco convert  --data FILE [--format seq|pairs] --to seq|pairs --out FILE
  reco models   [--plugin MODULE]...

defaults: --format seq, --protocol full, --seed 42, --target test, --ties average-floor,
--fit-on: the model's choice (popular, itemknn: train+valid; otherwise train).
--json prints exactly one JSON object on stdout; progress goes to stderr.
Plugins (--plugin or RECO_EVAL_PLUGINS=mod1,mod2) are modules that register models with
registerModel() from @reco/evaluation, or export registerModels(registry).`;

/** A command-line mistake: printed with the usage hint, exit code 2. */
export class UsageError extends Error {}

/** Directory relative paths are resolved against: where the user ran the command. */
function callerDirs(): string[] {
  const dirs = [process.cwd()];
  const init = process.env.INIT_CWD; // set by pnpm/npm to the directory the command was typed in
  if (init && resolve(init) !== process.cwd()) dirs.unshift(resolve(init));
  return dirs;
}

export function resolveCallerPath(p: string): string {
  if (isAbsolute(p)) return p;
  const dirs = callerDirs();
  for (const d of dirs) {
    const candidate = resolve(d, p);
    if (existsSync(candidate)) return candidate;
  }
  return resolve(dirs[dirs.length - 1], p);
}

function oneOf<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
  dflt?: T,
): T {
  if (value === undefined) {
    if (dflt !== undefined) return dflt;
    throw new UsageError(`${flag} is required (one of ${allowed.join(', ')})`);
  }
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag}: '${value}' is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function intFlag(
  flag: string,
  value: string | undefined,
  dflt: number | undefined,
  min: number,
): number | undefined {
  if (value === undefined) return dflt;
  if (!/^-?\d+$/.test(value.trim()) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new UsageError(`${flag}: expected an integer >= ${min}, got '${value}'`);
  }
  return Number(value);
}

async function loadPlugins(specs: readonly string[]): Promise<void> {
  const all = [
    ...(process.env.RECO_EVAL_PLUGINS ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    ...specs,
  ];
  for (const spec of all) {
    let resolved: string | undefined;
    for (const dir of callerDirs()) {
      try {
        resolved = createRequire(join(dir, 'noop.js')).resolve(
          spec.startsWith('.') ? resolve(dir, spec) : spec,
        );
        break;
      } catch {
        /* try the next directory */
      }
    }
    if (!resolved) throw new UsageError(`--plugin: cannot resolve module '${spec}'`);
    const mod = (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
    const register = (mod.registerModels ??
      (mod.default as Record<string, unknown> | undefined)?.registerModels) as
      ((r: typeof modelRegistry) => unknown) | undefined;
    if (typeof register === 'function') await register(modelRegistry);
  }
}

const OPTIONS = {
  data: { type: 'string' },
  format: { type: 'string' },
  protocol: { type: 'string' },
  model: { type: 'string' },
  seed: { type: 'string' },
  'max-train-minutes': { type: 'string' },
  json: { type: 'boolean' },
  plugin: { type: 'string', multiple: true },
  'model-opt': { type: 'string', multiple: true },
  'fit-on': { type: 'string' },
  target: { type: 'string' },
  'batch-size': { type: 'string' },
  ties: { type: 'string' },
  to: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function printHuman(r: EvaluationReport, out: NodeJS.WritableStream): void {
  const lines = [
    `${r.model} on ${r.dataset} (${r.protocol}, seed ${r.seed}): ${r.users} users, ${r.items} items`,
    `  HR@5 ${r['HR@5'].toFixed(4)}  HR@10 ${r['HR@10'].toFixed(4)}  HR@20 ${r['HR@20'].toFixed(4)}`,
    `  NDCG@5 ${r['NDCG@5'].toFixed(4)}  NDCG@10 ${r['NDCG@10'].toFixed(4)}  NDCG@20 ${r['NDCG@20'].toFixed(4)}`,
    `  MRR ${r.MRR.toFixed(4)}  coverage@10 ${r['coverage@10'].toFixed(4)}`,
    `  train ${r.train_seconds.toFixed(1)}s  eval ${r.eval_seconds.toFixed(1)}s`,
  ];
  out.write(lines.join('\n') + '\n');
}

async function evaluateCommand(values: ReturnType<typeof parse>['values']): Promise<number> {
  if (!values.data) throw new UsageError('--data is required');
  if (!values.model)
    throw new UsageError(`--model is required (registered: ${modelRegistry.names().join(', ')})`);
  const format = oneOf<DatasetFormat>('--format', values.format, DATASET_FORMATS, 'seq');
  const protocol = oneOf<Protocol>('--protocol', values.protocol, PROTOCOLS, 'full');
  const fitOnFlag =
    values['fit-on'] === undefined
      ? undefined
      : oneOf('--fit-on', values['fit-on'], ['train', 'train+valid'] as const);
  const tieMode = oneOf<TieMode>('--ties', values.ties, TIE_MODES, DEFAULT_TIE_MODE);
  const target = oneOf('--target', values.target, ['test', 'validation'] as const, 'test');
  const seed = intFlag('--seed', values.seed, 42, 0)!;
  const batchSize = intFlag('--batch-size', values['batch-size'], undefined, 1);
  let maxTrainMinutes: number | undefined;
  if (values['max-train-minutes'] !== undefined) {
    maxTrainMinutes = Number(values['max-train-minutes']);
    if (!Number.isFinite(maxTrainMinutes) || maxTrainMinutes <= 0) {
      throw new UsageError(
        `--max-train-minutes: expected a positive number, got '${values['max-train-minutes']}'`,
      );
    }
  }
  const modelOptions: Record<string, string> = {};
  for (const kv of values['model-opt'] ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--model-opt: expected KEY=VALUE, got '${kv}'`);
    modelOptions[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  await loadPlugins(values.plugin ?? []);
  const entry = modelRegistry.get(values.model); // throws "not available" before loading data

  const stderr = process.stderr;
  const file = resolveCallerPath(values.data);
  const log = new Progress('reco', stderr);
  log.log(`loading ${file} (${format})`);
  const ds = loadDataset(file, format);
  log.log(`${ds.userIds.length} users, ${ds.itemIds.length} items, ${ds.numInteractions} interactions`);
  const model = await entry.create({ seed, options: modelOptions });
  const fitOn = resolveFitOn(model, { fitOn: fitOnFlag, target });
  log.log(
    `model ${model.name}: fit on ${fitOn}, rank the ${target} item (${protocol}, ties ${tieMode}, seed ${seed})`,
  );
  const fitBar = new Progress(`fit ${model.name}`, stderr);
  const evalBar = new Progress(`evaluate ${protocol}`, stderr);
  try {
    const report = await runEvaluation(ds, model, {
      protocol,
      seed,
      maxTrainMinutes,
      fitOn,
      target,
      batchSize,
      tieMode,
      onFitProgress: (p) =>
        fitBar.update(
          p.fraction,
          p.message ??
            [
              p.epoch !== undefined ? `epoch ${p.epoch}` : '',
              p.loss !== undefined ? `loss ${p.loss.toFixed(4)}` : '',
            ].join(' '),
        ),
      onEvalProgress: (done, total) => evalBar.update(done / total, `${done}/${total} users`, done === total),
    });
    if (values.json) process.stdout.write(JSON.stringify(report) + '\n');
    else printHuman(report, process.stdout);
  } finally {
    await model.dispose?.();
  }
  return 0;
}

function convertCommand(values: ReturnType<typeof parse>['values']): number {
  if (!values.data) throw new UsageError('--data is required');
  if (!values.out) throw new UsageError('--out is required');
  const format = oneOf<DatasetFormat>('--format', values.format, DATASET_FORMATS, 'seq');
  const to = oneOf<DatasetFormat>('--to', values.to, DATASET_FORMATS);
  const ds = loadDataset(resolveCallerPath(values.data), format);
  const out = resolve(callerDirs()[0], values.out);
  writeFileSync(out, formatDataset(ds, to));
  process.stderr.write(
    `wrote ${out} (${to}, ${ds.userIds.length} users, ${ds.numInteractions} interactions)\n`,
  );
  return 0;
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  // With --json, stdout carries exactly one JSON object: route stray console output to stderr.
  const jsonMode = argv.includes('--json');
  const saved = { log: console.log, info: console.info, debug: console.debug };
  if (jsonMode) console.log = console.info = console.debug = console.error;
  try {
    const { values, positionals } = parse(argv);
    const command = positionals[0];
    if (values.help || command === 'help') {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}'`);
    switch (command) {
      case 'evaluate':
        return await evaluateCommand(values);
      case 'convert':
        return convertCommand(values);
      case 'models':
        await loadPlugins(values.plugin ?? []);
        for (const e of modelRegistry.list()) process.stdout.write(`${e.name}\t${e.description}\n`);
        return 0;
      case undefined:
        throw new UsageError('missing command (evaluate, convert or models)');
      default:
        throw new UsageError(`unknown command '${command}' (evaluate, convert or models)`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`reco: ${err.message}\n(reco --help shows the usage)\n`);
      return 2;
    }
    if (err instanceof ModelNotAvailableError) {
      process.stderr.write(`reco: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`reco: ${(err as Error).message ?? String(err)}\n`);
    return 1;
  } finally {
    Object.assign(console, saved);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`reco: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
