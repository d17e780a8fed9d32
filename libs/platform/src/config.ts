import { z } from 'zod';

/** Thrown at start-up when a setting is missing or malformed; the message names each one. */
export class ConfigError extends Error {
  constructor(
    readonly service: string,
    readonly problems: string[],
  ) {
    super(`${service}: invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses settings from the environment with a zod schema whose keys are the variable names.
 * Every problem is reported at once, each naming its variable and what it is for.
 */
export function loadConfig<S extends z.ZodObject<z.ZodRawShape>>(
  service: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    // An empty variable counts as unset, as most deployment tools write unset values that way.
    input[key] = value === '' ? undefined : value;
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(settings)');
    const field = schema.shape[name] as z.ZodType | undefined;
    const purpose = field?.description ? ` (${field.description})` : '';
    const missing = issue.code === 'invalid_type' && input[name] === undefined;
    return missing ? `${name} is required${purpose}` : `${name}: ${issue.message}${purpose}`;
  });
  throw new ConfigError(service, problems);
}

/** Reusable setting types. */
export const setting = {
  /** Comma-separated host:port list. */
  brokers: () =>
    z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((b) => b.trim())
          .filter(Boolean),
      )
      .refine((list) => list.length > 0 && list.every((b) => /^[^\s:]+:\d+$/.test(b)), {
        message: 'expected host:port[,host:port...]',
      }),
  int: (min: number, max: number) => z.coerce.number().int().min(min).max(max),
  bool: () =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  redisUrl: () => z.string().regex(/^rediss?:\/\//, 'expected redis://host:port[/db]'),
};

/** Settings every service shares. */
export const commonSettings = {
  KAFKA_BROKERS: setting.brokers().describe('Kafka bootstrap servers, e.g. 127.0.0.1:9092'),
  RECO_TOPIC_PREFIX: z.string().default('').describe('prefix for every topic name (tests use one per run)'),
  RECO_TOPIC_PARTITIONS: setting
    .int(1, 1024)
    .optional()
    .describe('partition count for topics this service creates, overriding the registry default'),
  KAFKA_REPLICATION_FACTOR: setting.int(1, 16).default(1).describe('replication factor of created topics'),
  HTTP_PORT: setting.int(0, 65535).default(0).describe('port of /healthz and /metrics; 0 picks a free one'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
};
