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

/** A variable holding JSON, validated by `shape`. */
const json = <T extends z.ZodType>(shape: T) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(shape);

const microUsd = z.coerce.number().int().min(0).max(1e12);
const evmAddress = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be an EVM address (0x and 40 hex digits)');
const modelName = /^[\w.:/-]{1,100}$/;
const pluginName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'must be a lowercase name');

/** Signing secrets: at least 32 characters; unset, the launcher generates and keeps them in DATA_DIR. */
const secret = z.string().min(32, { message: 'must be at least 32 characters' });

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
  // /metrics (README "Observability"): on the main port for `Authorization: Bearer METRICS_TOKEN`,
  // and/or open on METRICS_PORT at METRICS_HOST (an internal address); neither set, not served.
  METRICS_TOKEN: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
  METRICS_PORT: port.optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  // Traces go over OTLP/HTTP to this collector (e.g. http://collector:4318); unset, none are sent.
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:']).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).max(100).default('agentry'),
  AUTH_MODE: z.enum(['required', 'open']).default('required'),
  JWT_SECRET: secret.optional(),
  INTERNAL_SECRET: secret.optional(),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(60),
  API_KEY_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  INTROSPECTION: z.enum(['true', 'false']).default('true'),
  QUERY_PLANNER: z.enum(['js', 'rust']).default('js'),
  MAX_QUERY_DEPTH: z.coerce.number().int().min(1).max(100).default(12),
  MAX_QUERY_COST: z.coerce.number().int().min(1).default(5000),
  MAX_QUERY_ALIASES: z.coerce.number().int().min(1).default(30),
  MAX_QUERY_TOKENS: z.coerce.number().int().min(1).default(2000),
  TASK_CLOCK_MS: z.coerce.number().int().min(100).max(3_600_000).default(5000),
  WEBHOOK_ALLOWLIST: z.string().default(''),
  // Calls to an agent's endpoint (the AUTX proxy and paid orders): hosts, IPs or CIDRs it may reach
  // although private (comma-separated), how long one call may take and how large its answer may be.
  AGENT_ENDPOINT_ALLOWLIST: z.string().default(''),
  AGENT_CALL_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  AGENT_RESPONSE_MAX_BYTES: z.coerce.number().int().min(1).max(10_485_760).default(524_288),
  // Device pairing (002's /api/runtime/devices): how long a pairing code, and then the challenge
  // the device must sign, stay valid.
  DEVICE_PAIRING_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  // Skills (folders with a SKILL.md): SKILLS_DIR is read and written (unset: DATA_DIR/skills); the
  // catalog is only read and installed from (unset: the one shipped in subgraphs/agents/skills/catalog).
  SKILLS_DIR: z.string().min(1).optional(),
  SKILLS_CATALOG_DIR: z.string().min(1).optional(),
  // Where clients reach the platform: links in e-mails; A2A's card too unless A2A_PUBLIC_URL is set.
  PUBLIC_URL: url(['http:', 'https:']).optional(),
  // Where A2A clients reach the platform, as its agent card says (unset: PUBLIC_URL, else http:// and
  // the request's Host).
  A2A_PUBLIC_URL: url(['http:', 'https:']).optional(),
  // E-mail verification (README "Accounts"): links go out over SMTP_URL, or are logged when it is
  // unset; 003's "verified email" routes need a verified address unless REQUIRE_VERIFIED_EMAIL=false.
  SMTP_URL: url(['smtp:', 'smtps:']).optional(),
  EMAIL_FROM: z.string().min(3).max(200).default('Agentry <no-reply@agentry.local>'),
  REQUIRE_VERIFIED_EMAIL: z.enum(['true', 'false']).default('true'),
  EMAIL_VERIFICATION_TTL_HOURS: z.coerce.number().int().min(1).max(720).default(48),
  // Upstream LLM of the sessions subgraph's chat: any OpenAI-compatible server; unset, chat answers
  // UPSTREAM_UNAVAILABLE. Prices are micro-USD (1 USD = 1,000,000), 001's defaults.
  LLM_BASE_URL: url(['http:', 'https:']).optional(),
  LLM_API_KEY: z.string().optional(),
  LLM_DEFAULT_MODEL: z.string().regex(modelName, 'must be a model name').default('default'),
  // 001's default temperature of a chat that sets none; the settings store can change it live.
  LLM_DEFAULT_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.7),
  LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
  LLM_BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  LLM_BREAKER_COOLDOWN_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  LLM_PRICE_PER_1K_TOKENS_MICRO_USD: microUsd.default(3000),
  LLM_PRICE_PER_CALL_MICRO_USD: microUsd.default(80_000),
  // More OpenAI-compatible providers, each answering the models its patterns match (`*` = any
  // characters); models no pattern matches go to LLM_BASE_URL's provider, named `default`.
  LLM_PROVIDERS: json(
    z
      .array(
        z.object({
          name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'must be a lowercase name'),
          baseUrl: url(['http:', 'https:']),
          apiKey: z.string().min(1).optional(),
          models: z.array(z.string().regex(/^[\w.:/*-]{1,100}$/, 'must be a model pattern')).min(1),
        }),
      )
      .max(20)
      .refine((list) => new Set(list.map((p) => p.name)).size === list.length, 'names must be unique')
      .refine((list) => list.every((p) => p.name !== 'default'), '`default` is LLM_BASE_URL'),
  ).optional(),
  // Prices of particular models, over the two defaults above: {"model": {"perThousandTokens": µUSD, "perCall": µUSD}}.
  LLM_MODEL_PRICES: json(
    z.record(
      z.string().regex(modelName, 'must be a model name'),
      z.object({ perThousandTokens: microUsd, perCall: microUsd }),
    ),
  ).optional(),
  // Tools (README "Tools: plugins and MCP"): MCP servers the operator runs, each a plugin of the
  // same name: `{"name", "command", "args"?, "env"?, "cwd"?}` started over stdio, or `{"name", "url",
  // "headers"?}` over streamable HTTP, each given MCP_CONNECT_TIMEOUT_MS to connect. One tool call may take TOOL_TIMEOUT_MS and answer at most
  // TOOL_RESULT_MAX_CHARS; a chat turn runs at most TOOL_MAX_ROUNDS rounds of the model's calls.
  MCP_SERVERS: json(
    z
      .array(
        z.union([
          z
            .object({
              name: pluginName,
              command: z.string().min(1).max(1000),
              args: z.array(z.string().max(4000)).max(100).default([]),
              env: z.record(z.string(), z.string()).optional(),
              cwd: z.string().min(1).optional(),
            })
            .strict(),
          z
            .object({
              name: pluginName,
              url: url(['http:', 'https:']),
              headers: z.record(z.string(), z.string()).optional(),
            })
            .strict(),
        ]),
      )
      .max(50)
      .refine((list) => new Set(list.map((s) => s.name)).size === list.length, 'names must be unique'),
  ).optional(),
  MCP_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  TOOL_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  TOOL_RESULT_MAX_CHARS: z.coerce.number().int().min(100).max(10_000_000).default(100_000),
  TOOL_MAX_ROUNDS: z.coerce.number().int().min(0).max(20).default(5),
  // Metered billing of chat from USD credits (README "Billing"): `off` meters and records every
  // turn without charging; `on` holds the most a turn may cost before it goes upstream and posts
  // its price when it ends. A turn's completion is bounded by its maxTokens, else by this default.
  BILLING: z.enum(['on', 'off']).default('off'),
  BILLING_MAX_COMPLETION_TOKENS: z.coerce.number().int().min(1).max(100_000).default(4096),
  // At most 30 days, the wallet's longest hold.
  BILLING_HOLD_TIMEOUT_SECONDS: z.coerce.number().int().min(60).max(2_592_000).default(3600),
  BILLING_RECONCILE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  // Messaging channels (README "Messaging channels"): messages to the bot become chat turns of the
  // bound account (and agent); the answer goes back through the channel's API at its base URL.
  TELEGRAM_BOT_TOKEN: z
    .string()
    .regex(/^\d+:[\w-]+$/, 'must be a bot token (123456:ABC…)')
    .optional(),
  // Telegram's secret_token of setWebhook: 1 to 256 of A-Z a-z 0-9 _ -.
  TELEGRAM_WEBHOOK_SECRET: z
    .string()
    .regex(/^[\w-]{1,256}$/, 'must be 1 to 256 of A-Z, a-z, 0-9, _ and -')
    .optional(),
  TELEGRAM_ACCOUNT_ID: z
    .string()
    .regex(/^acc_\w+$/, 'must be an account id (acc_…)')
    .optional(),
  TELEGRAM_AGENT_ID: z
    .string()
    .regex(/^agt_\w+$/, 'must be an agent id (agt_…)')
    .optional(),
  TELEGRAM_API_URL: url(['http:', 'https:']).default('https://api.telegram.org'),
  WHATSAPP_ACCESS_TOKEN: z.string().min(1).optional(),
  WHATSAPP_PHONE_NUMBER_ID: z
    .string()
    .regex(/^\d{1,30}$/, 'must be a phone number id (digits)')
    .optional(),
  WHATSAPP_VERIFY_TOKEN: z.string().min(1).max(256).optional(),
  WHATSAPP_APP_SECRET: z.string().min(1).optional(),
  WHATSAPP_ACCOUNT_ID: z
    .string()
    .regex(/^acc_\w+$/, 'must be an account id (acc_…)')
    .optional(),
  WHATSAPP_AGENT_ID: z
    .string()
    .regex(/^agt_\w+$/, 'must be an agent id (agt_…)')
    .optional(),
  WHATSAPP_API_URL: url(['http:', 'https:']).default('https://graph.facebook.com/v21.0'),
  // The platform's cut of a task reward paid to an agent's owner, in basis points (250 = 2.5%).
  PLATFORM_FEE_BPS: z.coerce.number().int().min(0).max(10_000).default(250),
  /** How long a verified gaze attestation vouches for its account (000's CSTB). */
  ATTESTATION_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(30 * 24 * 3600)
    .default(3600),
  /** The longest pause between two gaze samples that still counts as watching; a longer one ends the session. */
  GAZE_MAX_GAP_CENTISECONDS: z.coerce.number().int().min(1).max(6000).default(50),
  // The browser tool of agents (README "Browser tool"): a headless Chromium driven by playwright-core
  // (unset: the first of /usr/bin/chromium, chromium-browser, google-chrome found), one context per
  // account, at most BROWSER_MAX_SESSIONS per process, closed after BROWSER_IDLE_SECONDS unused.
  // Pages reach only public addresses, or hosts, IPs and CIDRs BROWSER_ALLOW_HOSTS names.
  BROWSER_EXECUTABLE: z.string().min(1).optional(),
  BROWSER_ALLOW_HOSTS: z.string().default(''),
  BROWSER_MAX_SESSIONS: z.coerce.number().int().min(1).max(100).default(4),
  BROWSER_IDLE_SECONDS: z.coerce.number().int().min(5).max(86_400).default(300),
  BROWSER_PAGE_TIMEOUT_MS: z.coerce.number().int().min(500).max(120_000).default(15_000),
  BROWSER_MAX_TEXT_CHARS: z.coerce.number().int().min(100).max(1_000_000).default(50_000),
  BROWSER_MAX_SCREENSHOT_BYTES: z.coerce.number().int().min(10_000).max(20_971_520).default(5_242_880),
  ...subgraphUrlVars,
  // REST dialects (router/rest): where each is mounted ('' keeps its documented absolute paths, a
  // mount is /segments without a trailing slash) and the heartbeat of their Server-Sent Events.
  REST_MOUNT_HERMES: z
    .string()
    .regex(/^(\/[\w.~-]+)*$/, 'must be empty or /path without a trailing slash')
    .default(''),
  REST_MOUNT_AUTX: z
    .string()
    .regex(/^(\/[\w.~-]+)+$/, 'must be /path without a trailing slash')
    .default('/autx/v1'),
  REST_MOUNT_X402: z
    .string()
    .regex(/^(\/[\w.~-]+)+$/, 'must be /path without a trailing slash')
    .default('/x402/v1'),
  REST_MOUNT_RUNTIME: z
    .string()
    .regex(/^(\/[\w.~-]+)*$/, 'must be empty or /path without a trailing slash')
    .default('/runtime'),
  REST_SSE_HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(300).default(15),
  // Wallet deposits and withdrawals (README "Deposits and withdrawals"). On-chain USDC deposits are
  // verified through an EVM JSON-RPC node; unset, deposits answer UPSTREAM_UNAVAILABLE. Withdrawals
  // are paid by the payout service at PAYOUT_URL; unset, they answer UPSTREAM_UNAVAILABLE.
  EVM_RPC_URL: url(['http:', 'https:']).optional(),
  CREDIT_VAULT_ADDRESS: evmAddress.optional(),
  // Native USDC on Base (the chain 003's CreditVault lives on) unless another token is named.
  USDC_CONTRACT_ADDRESS: evmAddress.default('0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913'),
  DEPOSIT_CONFIRMATIONS: z.coerce.number().int().min(1).max(10_000).default(12),
  ENABLE_TEST_CREDITS: z.enum(['true', 'false']).default('false'),
  PAYOUT_URL: url(['http:', 'https:']).optional(),
  PAYOUT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(15_000),
  // hermesx402's paid hire (README "Hiring over HTTP 402"): SOL sent to SOLANA_ESCROW_ADDRESS,
  // proven by a transaction signature that a Solana JSON-RPC node at SOLANA_RPC_URL confirms.
  // Either unset, a paid retry answers UPSTREAM_UNAVAILABLE.
  SOLANA_RPC_URL: url(['http:', 'https:']).optional(),
  SOLANA_ESCROW_ADDRESS: z
    .string()
    .regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, 'must be a Solana address (32 to 44 base58 characters)')
    .optional(),
  SOLANA_NETWORK: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/, 'must be a network name such as solana-mainnet')
    .default('solana-mainnet'),
  SOLANA_COMMITMENT: z.enum(['confirmed', 'finalized']).default('finalized'),
  // The Machine Payments Protocol on the hermes routes (README "MPP (Machine Payments Protocol)"):
  // `true` answers a request without a credential 402 with a `WWW-Authenticate: Payment` challenge
  // for MPP_PRICE_MICRO_USD, paid from a platform account's USD credits.
  MPP_ENABLED: z.enum(['true', 'false']).default('false'),
  MPP_PRICE_MICRO_USD: z.coerce.number().int().min(1).max(1_000_000_000).default(10_000),
  // x402 v2 (README "x402 v2"): a hire of a USDC-priced agent is paid with an EIP-3009 authorization
  // (the `exact` EVM scheme) that the facilitator at X402_FACILITATOR_URL verifies and settles to
  // X402_PAY_TO. Either unset, the rail is off.
  X402_FACILITATOR_URL: url(['http:', 'https:']).optional(),
  X402_PAY_TO: evmAddress.optional(),
  X402_NETWORK: z
    .string()
    .regex(/^eip155:[1-9][0-9]{0,18}$/, 'must be a CAIP-2 EVM network such as eip155:8453')
    .default('eip155:8453'),
  // USDC on Base and its EIP-712 domain (name, version), which the payer's signature commits to.
  X402_ASSET: evmAddress.default('0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913'),
  X402_ASSET_NAME: z.string().min(1).max(64).default('USD Coin'),
  X402_ASSET_VERSION: z.string().min(1).max(16).default('2'),
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
