import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import {
  liveSettingValues,
  loadConfig,
  projectVersion,
  type EntityManager,
  type LiveSettingValues,
  type Logger,
  type Peers,
} from '../../lib';
import { CircuitBreaker } from './chat.breaker';
import type { PriceTable } from './chat.pricing';
import { LlmProvider, type ProbeResult } from './chat.upstream';

/** The provider `LLM_BASE_URL` configures; it answers every model no other provider claims. */
export const DEFAULT_PROVIDER = 'default';
/** Replicas reload provider keys from the table when one of them changes a key. */
export const PROVIDER_KEYS_TOPIC = 'sessions.provider-keys';
export const PROBE_INTERVAL_MS = 30_000;

interface ProviderRoute {
  provider: LlmProvider;
  /** Model patterns as configured, `*` matching any characters. */
  models: string[];
  patterns: RegExp[];
}

export interface ChatSettings {
  /** These three follow the settings store (`model.*`), like the default prices and breakers. */
  defaultModel: string;
  defaultTemperature: number;
  defaultMaxTokens: number;
  /** The price of a model: its own from LLM_MODEL_PRICES, else the defaults. */
  pricesOf(model: string): PriceTable;
  /** The models LLM_MODEL_PRICES prices. */
  pricedModels: string[];
  /** By name; empty when no upstream is configured. */
  providers: Map<string, LlmProvider>;
  /** Longest silence a live turn can go without recording anything (retries included). */
  maxTurnSilenceMs: number;
  routes: ProviderRoute[];
}

const pattern = (glob: string) =>
  new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\/]/g, '\\$&').replace(/\*/g, '.*')}$`);

let settings: ChatSettings | undefined;

/**
 * Read from the environment at first use (the subgraph definition takes no configuration). The
 * breakers live here, so their state is per process.
 */
export function chatSettings(): ChatSettings {
  if (settings) return settings;
  const config = loadConfig();
  const breaker = () =>
    new CircuitBreaker({
      threshold: config.LLM_BREAKER_FAILURES,
      cooldownMs: config.LLM_BREAKER_COOLDOWN_SECONDS * 1000,
    });
  const provider = (name: string, baseUrl: string, apiKey: string | undefined) =>
    new LlmProvider({ name, baseUrl, apiKey, timeoutMs: config.LLM_TIMEOUT_MS, breaker: breaker() });
  const routes: ProviderRoute[] = (config.LLM_PROVIDERS ?? []).map((p) => ({
    provider: provider(p.name, p.baseUrl, p.apiKey),
    models: p.models,
    patterns: p.models.map(pattern),
  }));
  if (config.LLM_BASE_URL)
    routes.push({
      provider: provider(DEFAULT_PROVIDER, config.LLM_BASE_URL, config.LLM_API_KEY),
      models: ['*'],
      patterns: [/.*/],
    });
  const defaults: PriceTable = {
    perThousandTokensMicroUsd: BigInt(config.LLM_PRICE_PER_1K_TOKENS_MICRO_USD),
    perCallMicroUsd: BigInt(config.LLM_PRICE_PER_CALL_MICRO_USD),
  };
  // A Map, so a model named like an Object.prototype property ("constructor") has no price of its own.
  const modelPrices = new Map(Object.entries(config.LLM_MODEL_PRICES ?? {}));
  settings = {
    defaultModel: config.LLM_DEFAULT_MODEL,
    defaultTemperature: config.LLM_DEFAULT_TEMPERATURE,
    defaultMaxTokens: config.BILLING_MAX_COMPLETION_TOKENS,
    pricesOf(model) {
      const own = modelPrices.get(model);
      // A copy: a turn keeps the prices it started with when the defaults change.
      return own
        ? { perThousandTokensMicroUsd: BigInt(own.perThousandTokens), perCallMicroUsd: BigInt(own.perCall) }
        : { ...defaults };
    },
    pricedModels: [...modelPrices.keys()],
    providers: new Map(routes.map(({ provider }) => [provider.name, provider])),
    // Tools record nothing either: listing them (connecting a server), then a round's calls (run together).
    maxTurnSilenceMs:
      2 * config.LLM_TIMEOUT_MS + config.MCP_CONNECT_TIMEOUT_MS + config.TOOL_TIMEOUT_MS + 60_000,
    routes,
  };
  defaultPrices = defaults;
  return settings;
}

let defaultPrices: PriceTable | undefined;

/** Applies the live values of the settings store (lib/settings.ts) to this process. */
export function applyLiveSettings(values: LiveSettingValues): void {
  const current = chatSettings();
  current.defaultModel = values.defaultModel;
  current.defaultTemperature = values.temperature;
  current.defaultMaxTokens = values.maxTokens;
  Object.assign(defaultPrices!, {
    perThousandTokensMicroUsd: values.perThousandTokensMicroUsd,
    perCallMicroUsd: values.perCallMicroUsd,
  });
  for (const provider of current.providers.values())
    provider.breaker.reconfigure(values.breakerFailures, values.breakerCooldownSeconds * 1000);
}

/** Reads the stored settings from the accounts subgraph and applies them with their defaults. */
export async function loadLiveSettings(peers: Peers): Promise<LiveSettingValues> {
  const { platformSettingValues } = await peers.request<{
    platformSettingValues: { key: string; value: string }[];
  }>('accounts', 'query { platformSettingValues { key value } }');
  const stored = new Map(platformSettingValues.map(({ key, value }) => [key, JSON.parse(value) as unknown]));
  const values = liveSettingValues(loadConfig(), stored);
  applyLiveSettings(values);
  return values;
}

/** The provider that answers `model`: the first whose patterns match, in configuration order. */
export function providerFor(model: string): LlmProvider | undefined {
  return chatSettings().routes.find(({ patterns }) => patterns.some((p) => p.test(model)))?.provider;
}

/** The model patterns a provider answers, as configured. */
export const modelPatternsOf = (name: string): string[] =>
  chatSettings().routes.find(({ provider }) => provider.name === name)?.models ?? [];

// Provider keys set through the API: stored encrypted, so a database dump does not leak them.

const keyOf = (secret: string) =>
  Buffer.from(hkdfSync('sha256', secret, 'agentry', 'sessions/provider-keys', 32));

export function sealKey(apiKey: string, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyOf(secret), iv);
  const sealed = Buffer.concat([cipher.update(apiKey, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), sealed].map((part) => part.toString('base64url')).join('.');
}

export function openKey(ciphertext: string, secret: string): string {
  const [, iv, tag, sealed] = ciphertext.split('.').map((part) => Buffer.from(part, 'base64url'));
  const decipher = createDecipheriv('aes-256-gcm', keyOf(secret), iv);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(sealed), decipher.final()]).toString('utf8');
}

/** Gives every configured provider the key stored for it, or back its configured one. */
export async function loadProviderKeys(em: EntityManager, secret: string, log: Logger): Promise<void> {
  const rows = await em.execute<{ provider: string; ciphertext: string }[]>(
    `select "provider", "ciphertext" from "sessions"."provider_key"`,
  );
  const stored = new Map(rows.map((row) => [row.provider, row.ciphertext]));
  for (const provider of chatSettings().providers.values()) {
    const ciphertext = stored.get(provider.name);
    let key: string | undefined;
    try {
      key = ciphertext === undefined ? undefined : openKey(ciphertext, secret);
    } catch {
      // The platform secret changed since the key was set: the key must be set again.
      log.warn(
        { provider: provider.name },
        'stored provider key cannot be decrypted; using the configured one',
      );
    }
    provider.useKey(key);
  }
}

export enum GatewayMode {
  /** The upstream answers and lists its models: every chat feature works. */
  ENHANCED = 'ENHANCED',
  /** The upstream answers but not as a full OpenAI-compatible server: basic chat only. */
  PORTABLE = 'PORTABLE',
  /** No upstream, or unreachable: everything but chat still works. */
  DISCONNECTED = 'DISCONNECTED',
}

export interface GatewayProbe {
  connected: boolean;
  mode: GatewayMode;
  /** Every model the reachable providers list. */
  models: string[];
  /** Per provider: reachable, and its models when it lists them. */
  providers: { name: string; reachable: boolean; models: string[] | null }[];
  probedAt: Date;
  version: string;
}

let lastProbe: { at: number; result: Promise<GatewayProbe> } | undefined;

/**
 * Probes every provider (GET /models) at first use, then at most every 30 s; concurrent callers
 * share one probe. Connected when any provider answers; enhanced when every reachable one lists models.
 */
export function gatewayProbe(now = Date.now()): Promise<GatewayProbe> {
  if (lastProbe && now - lastProbe.at < PROBE_INTERVAL_MS) return lastProbe.result;
  const providers = [...chatSettings().providers.values()];
  const result = Promise.all(
    providers.map(async (provider) => ({ name: provider.name, ...(await provider.probe()) })),
  ).then((probes) => {
    const reachable = probes.filter((p: ProbeResult) => p.reachable);
    return {
      connected: reachable.length > 0,
      mode: !reachable.length
        ? GatewayMode.DISCONNECTED
        : reachable.every((p) => p.models)
          ? GatewayMode.ENHANCED
          : GatewayMode.PORTABLE,
      models: [...new Set(reachable.flatMap((p) => p.models ?? []))],
      providers: probes,
      probedAt: new Date(),
      version: projectVersion(),
    };
  });
  lastProbe = { at: now, result };
  return result;
}
