import { loadConfig, projectVersion } from '../../lib';
import { CircuitBreaker } from './chat.breaker';
import type { PriceTable } from './chat.pricing';
import { LlmProvider, type ProbeResult } from './chat.upstream';

/** The one provider `LLM_BASE_URL` configures; a model → provider map would add more names. */
export const DEFAULT_PROVIDER = 'default';
const PROBE_INTERVAL_MS = 30_000;

export interface ChatSettings {
  defaultModel: string;
  prices: PriceTable;
  /** By name; empty when no upstream is configured. */
  providers: Map<string, LlmProvider>;
}

let settings: ChatSettings | undefined;

/**
 * Read from the environment at first use (the subgraph definition takes no configuration). The
 * breakers live here, so their state is per process.
 */
export function chatSettings(): ChatSettings {
  if (settings) return settings;
  const config = loadConfig();
  const providers = new Map<string, LlmProvider>();
  if (config.LLM_BASE_URL)
    providers.set(
      DEFAULT_PROVIDER,
      new LlmProvider({
        name: DEFAULT_PROVIDER,
        baseUrl: config.LLM_BASE_URL,
        apiKey: config.LLM_API_KEY,
        timeoutMs: config.LLM_TIMEOUT_MS,
        breaker: new CircuitBreaker({
          threshold: config.LLM_BREAKER_FAILURES,
          cooldownMs: config.LLM_BREAKER_COOLDOWN_SECONDS * 1000,
        }),
      }),
    );
  settings = {
    defaultModel: config.LLM_DEFAULT_MODEL,
    prices: {
      perThousandTokensMicroUsd: BigInt(config.LLM_PRICE_PER_1K_TOKENS_MICRO_USD),
      perCallMicroUsd: BigInt(config.LLM_PRICE_PER_CALL_MICRO_USD),
    },
    providers,
  };
  return settings;
}

/** The provider that answers `model`; one for now. */
export function providerFor(_model: string): LlmProvider | undefined {
  return chatSettings().providers.get(DEFAULT_PROVIDER);
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
  models: string[];
  probedAt: Date;
  version: string;
}

let lastProbe: { at: number; result: Promise<GatewayProbe> } | undefined;

/** Probes the upstream at first use, then at most every 30 s; concurrent callers share one probe. */
export function gatewayProbe(now = Date.now()): Promise<GatewayProbe> {
  if (lastProbe && now - lastProbe.at < PROBE_INTERVAL_MS) return lastProbe.result;
  const provider = chatSettings().providers.get(DEFAULT_PROVIDER);
  const result = (
    provider ? provider.probe() : Promise.resolve<ProbeResult>({ reachable: false, models: null })
  ).then(({ reachable, models }) => ({
    connected: reachable,
    mode: !reachable ? GatewayMode.DISCONNECTED : models ? GatewayMode.ENHANCED : GatewayMode.PORTABLE,
    models: models ?? [],
    probedAt: new Date(),
    version: projectVersion(),
  }));
  lastProbe = { at: now, result };
  return result;
}
