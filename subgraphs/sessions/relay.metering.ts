import { AppError, badInput, type SubgraphContext } from '../../lib';
import { billingSettings, holdBound, holdCredits, postCredits, voidCredits } from './chat.billing';
import {
  approximateTokens,
  MAX_TOKEN_COUNT,
  priceOf,
  tokenCount,
  type PriceTable,
  type TokenUsage,
} from './chat.pricing';
import { chatSettings } from './chat.providers';

/**
 * What the OpenAI-compatible relay (relay.resolver.ts) checks, meters and charges: the request as
 * sent, the tokens its answer used (reported, else estimated), the credits it holds and posts.
 */

/**
 * The OpenAI-compatible endpoints besides chat that are passed through to a provider. A fixed
 * list, so a caller cannot reach any other path of the provider with the platform's key.
 */
export const RELAY_ENDPOINTS = ['embeddings', 'completions', 'moderations', 'responses'] as const;

/** The endpoints whose answers may stream, and the body field that bounds their completion. */
const COMPLETION_LIMIT: Record<string, string> = {
  completions: 'max_tokens',
  responses: 'max_output_tokens',
};

/** Most answers one legacy completion may ask for (`n`, `best_of`); OpenAI's own limit. */
const MAX_CHOICES = 128;

const LABEL = 'relay call';

export interface RelayRequest {
  endpoint: string;
  /** The body sent upstream: as sent, with the model filled in (and, billed, the completion bound). */
  body: string;
  model: string;
  stream: boolean;
  /** The most completion tokens the answer may use, for the hold. */
  completionBound: number;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** A whole number from 1 to `max` in `field`, or the default when it is absent. */
function positive(fields: Record<string, unknown>, field: string, fallback: number, max: number): number {
  const value = fields[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max)
    throw badInput(`${field} must be a whole number from 1 to ${max}`, { field });
  return value;
}

export function relayRequestOf(input: { endpoint: string; bodyBase64: string }): RelayRequest {
  const { endpoint } = input;
  if (!(RELAY_ENDPOINTS as readonly string[]).includes(endpoint))
    throw new AppError('NOT_FOUND', `/v1/${endpoint} is not passed through`, {
      passedThrough: RELAY_ENDPOINTS.map((e) => `/v1/${e}`),
    });
  const fields = parseJson(Buffer.from(input.bodyBase64, 'base64').toString('utf8'));
  if (!isObject(fields)) throw badInput('the body must be a JSON object');
  if (fields.model !== undefined && (typeof fields.model !== 'string' || !fields.model))
    throw badInput('model must be a model name', { field: 'model' });
  const limitField = COMPLETION_LIMIT[endpoint];
  const stream = fields.stream === true;
  if (stream && !limitField)
    throw badInput(`stream: true is not passed through for /v1/${endpoint}`, { field: 'stream' });
  const settings = chatSettings();
  // A call naming no model goes to the platform's default one, like chat.
  const model = (fields.model as string | undefined) ?? settings.defaultModel;
  const sent: Record<string, unknown> = { ...fields, model };
  let completionBound = 0;
  if (limitField) {
    const maxTokens = positive(fields, limitField, settings.defaultMaxTokens, MAX_TOKEN_COUNT);
    const choices = Math.max(
      positive(fields, 'n', 1, MAX_CHOICES),
      positive(fields, 'best_of', 1, MAX_CHOICES),
    );
    completionBound = maxTokens * choices;
    // Billed, the upstream is held to the bound the hold was priced with.
    if (billingSettings().enabled) sent[limitField] = maxTokens;
  }
  return { endpoint, body: JSON.stringify(sent), model, stream, completionBound };
}

/**
 * Counts what an answer used, from the JSON of a whole answer or of each streamed event: the usage
 * it reports (chat-style or Responses-style names, at the top or in a Responses `response`), else
 * an estimate from the request and the text that came.
 */
export class RelayMeter {
  private reported: { prompt: number; completion: number } | undefined;
  private text = '';

  constructor(private readonly request: string) {}

  add(data: string): void {
    const parsed = parseJson(data);
    if (!isObject(parsed)) return;
    const usage = isObject(parsed.usage)
      ? parsed.usage
      : isObject(parsed.response) && isObject(parsed.response.usage)
        ? parsed.response.usage
        : undefined;
    const prompt = tokenCount(usage?.prompt_tokens ?? usage?.input_tokens);
    if (prompt !== undefined)
      this.reported = {
        prompt,
        completion: tokenCount(usage?.completion_tokens ?? usage?.output_tokens) ?? 0,
      };
    // Streamed text: a legacy completion's choices, or a Responses text delta.
    if (Array.isArray(parsed.choices))
      for (const choice of parsed.choices as unknown[])
        if (isObject(choice) && typeof choice.text === 'string') this.text += choice.text;
    if (typeof parsed.delta === 'string' && parsed.type === 'response.output_text.delta')
      this.text += parsed.delta;
  }

  usage(): TokenUsage {
    if (this.reported)
      return {
        promptTokens: this.reported.prompt,
        completionTokens: this.reported.completion,
        estimated: false,
      };
    return {
      promptTokens: approximateTokens(this.request),
      completionTokens: this.text ? approximateTokens(this.text) : 0,
      estimated: true,
    };
  }
}

/** Billed, holds the most the call may cost (402 when short); else nothing. Returns the amount held. */
export async function holdRelay(
  ctx: SubgraphContext,
  id: string,
  request: RelayRequest,
  prices: PriceTable,
): Promise<bigint | undefined> {
  const billing = billingSettings();
  if (!billing.enabled) return undefined;
  const amount = holdBound(prices, [{ content: request.body }], request.completionBound);
  await holdCredits(
    ctx.peers,
    { turnId: id, ownerId: ctx.me().accountId, amount, timeoutSeconds: billing.holdTimeoutSeconds },
    LABEL,
  );
  return amount;
}

/** Gives back the hold of a call that used nothing; should that fail, the wallet expires it. */
export async function releaseRelay(ctx: SubgraphContext, id: string, held: bigint | undefined) {
  if (held === undefined) return;
  await voidCredits(ctx.peers, id, LABEL).catch((error: unknown) =>
    ctx.log.error({ err: error, relayId: id }, 'relay hold not voided; it will expire'),
  );
}

export interface RelayCall {
  id: string;
  request: RelayRequest;
  provider: string;
  status: number;
  usage: TokenUsage;
  latencyMs: number;
  /** False when the caller left before the answer ended: metered, not charged (like a cancelled turn). */
  complete: boolean;
}

/**
 * Records a call the provider answered and settles its hold: the price is posted (at most what was
 * held), the rest goes back; an incomplete call's hold is voided. Returns the price and the charge.
 */
export async function meterRelay(
  ctx: SubgraphContext,
  call: RelayCall,
  held: bigint | undefined,
): Promise<{ priceMicroUsd: bigint; chargedMicroUsd: bigint }> {
  const priceMicroUsd = priceOf(call.usage, chatSettings().pricesOf(call.request.model));
  const cap = call.complete ? (held ?? 0n) : 0n;
  const chargedMicroUsd = priceMicroUsd < cap ? priceMicroUsd : cap;
  await ctx.em.fork().execute(
    `insert into "sessions"."relay_call"
       ("id", "owner_id", "endpoint", "model", "provider", "status", "prompt_tokens", "completion_tokens",
        "price_micro_usd", "charged_micro_usd", "streamed", "latency_ms")
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      call.id,
      ctx.me().accountId,
      call.request.endpoint,
      call.request.model,
      call.provider,
      call.status,
      call.usage.promptTokens,
      call.usage.completionTokens,
      priceMicroUsd.toString(),
      chargedMicroUsd.toString(),
      call.request.stream,
      call.latencyMs,
    ],
  );
  if (held !== undefined) {
    // Every step's transfer id derives from the call id, so a retry never charges twice.
    const settle =
      chargedMicroUsd > 0n
        ? postCredits(ctx.peers, call.id, chargedMicroUsd, LABEL)
        : voidCredits(ctx.peers, call.id, LABEL);
    await settle.catch((error: unknown) =>
      ctx.log.error({ err: error, relayId: call.id }, 'relay hold not settled; it will expire'),
    );
  }
  return { priceMicroUsd, chargedMicroUsd };
}
