/** Metering rules, pure: prices are integer micro-USD (1 USD = 1,000,000), never floats. */

export interface PriceTable {
  perThousandTokensMicroUsd: bigint;
  perCallMicroUsd: bigint;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** True when the upstream reported no usage and the counts are approximate. */
  estimated: boolean;
}

/** 001's Tempo rule, `tokens / 1000 × rate + flat`, rounded up to the next micro-USD. */
export function priceOf(usage: TokenUsage, prices: PriceTable): bigint {
  const tokens = BigInt(usage.promptTokens + usage.completionTokens);
  const perTokens = (tokens * prices.perThousandTokensMicroUsd + 999n) / 1000n;
  return perTokens + prices.perCallMicroUsd;
}

/**
 * Most tokens one count of one turn may hold: far beyond any model, and small enough that a turn's
 * prompt and completion together still fit a 32-bit column (and GraphQL's Int).
 */
export const MAX_TOKEN_COUNT = 1_000_000_000;

/** A token count as reported by someone else: a whole number from 0 to the cap, else undefined. */
export function tokenCount(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
  return Math.min(Math.ceil(value), MAX_TOKEN_COUNT);
}

/** About four characters a token in English; good enough when the upstream reports no usage. */
export const approximateTokens = (text: string) => Math.min(Math.ceil(text.length / 4), MAX_TOKEN_COUNT);
