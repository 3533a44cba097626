import { z } from 'zod';

/** The six subgraphs, in the order the launcher starts them. */
export const SUBGRAPHS = ['accounts', 'agents', 'sessions', 'memory', 'tasks', 'wallet'] as const;
export type SubgraphName = (typeof SUBGRAPHS)[number];

/** Default local port of each subgraph when the launcher runs them all on one machine. */
export const DEFAULT_SUBGRAPH_PORTS: Record<SubgraphName, number> = {
  accounts: 4001,
  agents: 4002,
  sessions: 4003,
  memory: 4004,
  tasks: 4005,
  wallet: 4006,
};

const port = z.coerce.number().int().min(0).max(65535);
const url = (protocols: string[]) =>
  z
    .string()
    .url()
    .refine((value) => URL.canParse(value) && protocols.includes(new URL(value).protocol), {
      message: `must start with ${protocols.join(' or ')}`,
    });

const subgraphUrlVars = Object.fromEntries(
  SUBGRAPHS.map((name) => [`${name.toUpperCase()}_URL`, url(['http:', 'https:']).optional()]),
) as Record<`${Uppercase<SubgraphName>}_URL`, z.ZodOptional<z.ZodString>>;

const schema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(4000),
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_PG_PORT: port.default(5433),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  GRAPHIQL: z.enum(['true', 'false']).default('true'),
  ...subgraphUrlVars,
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {}

/** Reads and validates the environment once; a bad value stops start-up with the variable's name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const values = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(values);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  return result.data;
}

/** Where the router finds a subgraph: `<NAME>_URL`, else the launcher's local default. */
export function subgraphUrl(config: Config, name: SubgraphName): string {
  const key = `${name.toUpperCase()}_URL` as keyof Config;
  return (config[key] as string | undefined) ?? `http://127.0.0.1:${DEFAULT_SUBGRAPH_PORTS[name]}/graphql`;
}
