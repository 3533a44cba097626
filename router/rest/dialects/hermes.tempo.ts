/**
 * 000/001's Tempo wallet: a metered one-shot completion with its billing receipt, the caller's
 * usage with totals, and the pricing. Rows of the hermes dialect; money leaves here as USD numbers,
 * the form 000 documents.
 */
import {
  TempoCallDocument,
  TempoPricingDocument,
  TempoUsageDocument,
  type MeteredTurnFieldsFragment,
  type ModelPriceFieldsFragment,
} from '../generated/graphql';
import { fromBody, fromBodyAs, fromHeader, lower, minorToNumber, required } from '../mapping';
import { InputError, route, type Converter, type Problem } from '../types';

const usd = (micro: string | bigint) => minorToNumber(String(micro), 6);

/** 000's `prompt`: one user message, answered in a one-shot session. */
const prompt: Converter = {
  schema: { type: 'string', examples: ['Analyze this gaze pattern for authentication'] },
  convert: (value) => {
    if (typeof value !== 'string') throw new InputError('must be a string');
    return [{ role: 'USER', content: value }];
  },
};

/** A call whose upstream failed: 503 when none could be reached, else 502. */
const failedCall = ({ errorCode, errorMessage }: MeteredTurnFieldsFragment): Problem | undefined =>
  errorCode
    ? {
        status: errorCode === 'UPSTREAM_UNAVAILABLE' ? 503 : 502,
        code: errorCode,
        message: errorMessage ?? 'the upstream LLM failed',
      }
    : undefined;

/** One metered call: 000's receipt, plus what was charged from credits and how it settled. */
const receipt = (t: MeteredTurnFieldsFragment) => {
  const cost = BigInt(t.costMicroUsd);
  const fee = BigInt(t.callFeeMicroUsd);
  return {
    call_id: t.id,
    model: t.model,
    status: lower(t.status),
    result: { role: 'assistant', content: t.assistantMessage?.content ?? '' },
    usage: {
      prompt_tokens: t.promptTokens,
      completion_tokens: t.completionTokens,
      total_tokens: t.promptTokens + t.completionTokens,
    },
    billing: {
      // The model's token price, then the platform's flat per-call margin, as 000 splits them.
      xai_cost_usd: usd(cost - fee),
      optx_margin_usd: usd(fee),
      total_usd: usd(cost),
      token: 'USD',
      charged_usd: usd(t.chargedMicroUsd ?? '0'),
      held_usd: usd(t.heldMicroUsd ?? '0'),
      settlement: lower(t.settlement),
    },
    latency_ms: t.latencyMs,
    created_at: t.createdAt,
  };
};

const modelPrice = (p: ModelPriceFieldsFragment) => ({
  model: p.model,
  per_1k_tokens_usd: usd(p.perThousandTokensMicroUsd),
  per_call_usd: usd(p.perCallMicroUsd),
});

/** 000/001 answer errors as the dialect does: `{detail}`, 402 when credits are short. */
export const tempoRoutes = [
  route({
    method: 'POST',
    path: '/api/wallet/tempo/call',
    summary: 'Metered call: one prompt answered, held and charged from USD credits; a billing receipt',
    operation: TempoCallDocument,
    // caller_id and tools are accepted and not used: the caller is who signed in, and turns use no tools.
    variables: {
      'input.idempotencyKey': fromHeader('Idempotency-Key'),
      'input.messages': required(fromBody('prompt', prompt, 'the prompt answered')),
      'input.model': fromBody('model'),
      'input.maxTokens': fromBodyAs(['max_tokens', 'max_completion_tokens']),
    },
    failure: ({ chat }) => failedCall(chat),
    shape: ({ chat }) => receipt(chat),
  }),
  route({
    method: 'GET',
    path: '/api/wallet/tempo/usage',
    summary: 'Your metered calls (chat turns included), newest first, with totals',
    operation: TempoUsageDocument,
    paged: { connection: (d) => d.turns },
    shape: ({ meteredUsageTotals: u, turns }, { page }) => ({
      calls: turns.nodes.map(receipt),
      totals: {
        calls: u.calls,
        prompt_tokens: Number(u.promptTokens),
        completion_tokens: Number(u.completionTokens),
        total_usd: usd(u.costMicroUsd),
        charged_usd: usd(u.chargedMicroUsd),
        held_usd: usd(u.heldMicroUsd),
        token: 'USD',
      },
      total: turns.totalCount,
      ...page,
    }),
  }),
  route({
    method: 'GET',
    path: '/api/wallet/tempo/pricing',
    summary: 'Prices per model (per 1K tokens and per call) and whether calls are charged',
    operation: TempoPricingDocument,
    shape: ({ meteringPricing: p }) => ({
      billing: p.billing ? 'credits' : 'off',
      token: p.asset,
      pricing: modelPrice(p.defaults),
      models: p.models.map(modelPrice),
      max_tokens_default: p.maxCompletionTokens,
      min_hold_usd: usd(p.messageHoldMicroUsd),
    }),
  }),
];
