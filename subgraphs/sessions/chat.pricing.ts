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

/** About four characters a token in English; good enough when the upstream reports no usage. */
export const approximateTokens = (text: string) => Math.ceil(text.length / 4);
