import { z } from 'zod';
import type { Config } from './config';

/**
 * The platform settings store (001's config): the keys it knows, each with its type and range.
 * `live` keys are stored by the accounts subgraph and apply on every replica without a restart
 * (announced on {@link SETTINGS_TOPIC}); their default is the environment's value. `environment`
 * keys are shown read-only: they are read once at start, so changing one means a restart.
 */
export const SETTINGS_TOPIC = 'platform.settings';

export type SettingType = 'string' | 'number' | 'integer' | 'boolean';

interface SettingSpec {
  description: string;
  type: SettingType;
  minimum?: number;
  maximum?: number;
  /** The environment variable it comes from (its default, for a live key). */
  variable: keyof Config;
}

export interface LiveSetting extends SettingSpec {
  live: true;
  schema: z.ZodType<string | number | boolean>;
}

export interface EnvironmentSetting extends SettingSpec {
  live: false;
}

export type SettingDefinition = LiveSetting | EnvironmentSetting;

export const MODEL_NAME = /^[\w.:/-]{1,100}$/;

/** A number from `minimum` to `maximum`, whole when `whole`; messages say what a value must be. */
const numeric = (minimum: number, maximum: number, whole: boolean) => {
  const range = { error: `must be from ${minimum} to ${maximum}` };
  const number = z.number({ error: 'must be a number' });
  return (whole ? number.int({ error: 'must be an integer' }) : number)
    .min(minimum, range)
    .max(maximum, range);
};

const integer = (minimum: number, maximum: number) => ({
  type: 'integer' as const,
  minimum,
  maximum,
  schema: numeric(minimum, maximum, true),
});

const live = (
  variable: keyof Config,
  description: string,
  spec: Omit<LiveSetting, 'live' | 'variable' | 'description'>,
): LiveSetting => ({
  live: true,
  variable,
  description,
  ...spec,
});

const environment = (variable: keyof Config, type: SettingType, description: string): EnvironmentSetting => ({
  live: false,
  variable,
  type,
  description,
});

/** Every key the store knows, in dot notation. A Map: keys come from clients. */
export const PLATFORM_SETTINGS = new Map<string, SettingDefinition>([
  [
    'model.default',
    live('LLM_DEFAULT_MODEL', 'The model of a chat that names none (its provider follows from it).', {
      type: 'string',
      schema: z
        .string({ error: 'must be a string' })
        .regex(MODEL_NAME, 'must be a model name (letters, digits, . : / _ -, at most 100)'),
    }),
  ],
  [
    'model.temperature',
    live('LLM_DEFAULT_TEMPERATURE', 'Sampling temperature of a chat that sets none.', {
      type: 'number',
      minimum: 0,
      maximum: 2,
      schema: numeric(0, 2, false),
    }),
  ],
  [
    'model.max_tokens',
    live(
      'BILLING_MAX_COMPLETION_TOKENS',
      'Most tokens an answer may have when a chat sets no limit.',
      integer(1, 100_000),
    ),
  ],
  [
    'pricing.per_1k_tokens_micro_usd',
    live(
      'LLM_PRICE_PER_1K_TOKENS_MICRO_USD',
      'Price of 1,000 tokens of a model without a price of its own, in micro-USD.',
      integer(0, 1e12),
    ),
  ],
  [
    'pricing.per_call_micro_usd',
    live(
      'LLM_PRICE_PER_CALL_MICRO_USD',
      'Price of one answer of a model without a price of its own, in micro-USD.',
      integer(0, 1e12),
    ),
  ],
  [
    'breaker.failures',
    live(
      'LLM_BREAKER_FAILURES',
      "Consecutive upstream failures that open a provider's circuit breaker.",
      integer(1, 1000),
    ),
  ],
  [
    'breaker.cooldown_seconds',
    live(
      'LLM_BREAKER_COOLDOWN_SECONDS',
      'How long an open breaker refuses calls before a trial one.',
      integer(1, 3600),
    ),
  ],
  ['llm.base_url', environment('LLM_BASE_URL', 'string', 'The OpenAI-compatible upstream of chat.')],
  ['llm.api_key', environment('LLM_API_KEY', 'string', "The upstream's API key.")],
  ['llm.timeout_ms', environment('LLM_TIMEOUT_MS', 'integer', 'How long an upstream call may take.')],
  ['billing.mode', environment('BILLING', 'string', 'Whether chat is charged from USD credits (on/off).')],
  [
    'billing.hold_timeout_seconds',
    environment('BILLING_HOLD_TIMEOUT_SECONDS', 'integer', 'How long a turn hold lasts.'),
  ],
  [
    'rate_limit.per_minute',
    environment('RATE_LIMIT_PER_MINUTE', 'integer', 'Requests a caller may make a minute.'),
  ],
  [
    'auth.mode',
    environment('AUTH_MODE', 'string', 'required: every call needs a credential; open: single-user.'),
  ],
  [
    'platform.fee_bps',
    environment('PLATFORM_FEE_BPS', 'integer', "The platform's cut of paid work, in basis points."),
  ],
  [
    'rest.sse_heartbeat_seconds',
    environment('REST_SSE_HEARTBEAT_SECONDS', 'integer', 'Heartbeat of REST event streams.'),
  ],
]);

/**
 * Whether a setting's value is a secret, shown redacted: a segment of its name that is or ends in
 * api_key, secret, token or password (`llm.api_key`, `bot_token`), not one that merely contains
 * the word (`model.max_tokens`).
 */
export const isSecretSetting = (key: string): boolean =>
  key
    .split('.')
    .some((segment) => /(^|_)(api_key|apikey|secret|token|password)$/.test(segment.toLowerCase()));

export const REDACTED = '***';

/** A live setting's value checked against its schema; the message names what is wrong. */
export function parseSetting(
  key: string,
  value: unknown,
): { value: string | number | boolean } | { error: string } {
  const definition = PLATFORM_SETTINGS.get(key);
  if (!definition)
    return { error: `${key} is not a setting; known: ${[...PLATFORM_SETTINGS.keys()].join(', ')}` };
  if (!definition.live)
    return {
      error: `${key} is read from ${String(definition.variable)} when the platform starts: set it there and restart`,
    };
  const parsed = definition.schema.safeParse(value);
  return parsed.success ? { value: parsed.data } : { error: `${key} ${parsed.error.issues[0].message}` };
}

const MAX_SETTINGS_DEPTH = 4;

/**
 * A JSON object of settings as `[key, value]` pairs: nested groups (`{model: {temperature: 1}}`) and
 * dotted keys (`{"model.temperature": 1}`) alike. Arrays and deeper objects are values, which the
 * store refuses.
 */
export function flattenSettings(body: Record<string, unknown>, prefix = '', depth = 0): [string, unknown][] {
  return Object.entries(body).flatMap(([name, value]): [string, unknown][] => {
    const key = prefix ? `${prefix}.${name}` : name;
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < MAX_SETTINGS_DEPTH)
      return flattenSettings(value as Record<string, unknown>, key, depth + 1);
    return [[key, value]];
  });
}

/** The live values a subgraph applies: the stored ones over the environment's defaults. */
export interface LiveSettingValues {
  defaultModel: string;
  temperature: number;
  maxTokens: number;
  perThousandTokensMicroUsd: bigint;
  perCallMicroUsd: bigint;
  breakerFailures: number;
  breakerCooldownSeconds: number;
}

/** The environment's value of a setting (a live one's default), as JSON. */
export const configValue = (config: Config, key: string): unknown => {
  const definition = PLATFORM_SETTINGS.get(key);
  return definition ? (config[definition.variable] ?? null) : null;
};

export function liveSettingValues(config: Config, stored: Map<string, unknown>): LiveSettingValues {
  const value = <T>(key: string) => (stored.has(key) ? stored.get(key) : configValue(config, key)) as T;
  return {
    defaultModel: value<string>('model.default'),
    temperature: value<number>('model.temperature'),
    maxTokens: value<number>('model.max_tokens'),
    perThousandTokensMicroUsd: BigInt(value<number>('pricing.per_1k_tokens_micro_usd')),
    perCallMicroUsd: BigInt(value<number>('pricing.per_call_micro_usd')),
    breakerFailures: value<number>('breaker.failures'),
    breakerCooldownSeconds: value<number>('breaker.cooldown_seconds'),
  };
}
