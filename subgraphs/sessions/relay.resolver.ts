import { performance } from 'node:perf_hooks';
import { Arg, Ctx, Field, ID, InputType, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import { AppError, badInput, BigIntScalar, newId, RequiresScopes, type SubgraphContext } from '../../lib';
import { approximateTokens, priceOf, tokenCount } from './chat.pricing';
import { chatSettings, providerFor } from './chat.providers';
import { UpstreamError } from './chat.upstream';

/**
 * The OpenAI-compatible endpoints besides chat that are passed through to a provider. A fixed
 * list, so a caller cannot reach any other path of the provider with the platform's key.
 */
export const RELAY_ENDPOINTS = ['embeddings', 'completions', 'moderations', 'responses'] as const;

/** The largest answer passed back (a big embeddings batch is a few MB). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

@InputType()
class OpenAiRelayInput {
  @Field({ description: `The endpoint below /v1: ${RELAY_ENDPOINTS.join(', ')}.` })
  endpoint!: string;

  @Field({ description: 'The JSON request body as sent, base64; its `model` picks the provider.' })
  bodyBase64!: string;
}

@ObjectType({
  description: "A provider's answer to a passed-through call, and what the call was metered at.",
})
class OpenAiRelay {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, { description: "The provider's HTTP status, passed through." })
  status!: number;

  @Field(() => String, { nullable: true })
  contentType!: string | null;

  @Field({ description: 'The answer as the provider sent it, base64.' })
  bodyBase64!: string;

  @Field()
  provider!: string;

  @Field()
  model!: string;

  @Field(() => Int)
  promptTokens!: number;

  @Field(() => Int)
  completionTokens!: number;

  @Field(() => BigIntScalar, {
    description: 'Metered at the model’s price; 0 for a call the provider refused (not recorded).',
  })
  priceMicroUsd!: bigint;

  @Field(() => Int)
  latencyMs!: number;
}

type Usage = Record<string, unknown> | undefined;

/** Token counts as the answer reports them (chat-style or Responses-style names), else estimated. */
function usageOf(answer: Buffer, request: string) {
  let usage: Usage;
  try {
    usage = (JSON.parse(answer.toString('utf8')) as { usage?: Usage }).usage;
  } catch {
    usage = undefined;
  }
  const prompt = tokenCount(usage?.prompt_tokens ?? usage?.input_tokens);
  return {
    promptTokens: prompt ?? approximateTokens(request),
    completionTokens: tokenCount(usage?.completion_tokens ?? usage?.output_tokens) ?? 0,
    estimated: prompt === undefined,
  };
}

function requestOf(input: OpenAiRelayInput): { body: string; model: string } {
  if (!(RELAY_ENDPOINTS as readonly string[]).includes(input.endpoint))
    throw new AppError('NOT_FOUND', `/v1/${input.endpoint} is not passed through`, {
      passedThrough: RELAY_ENDPOINTS.map((e) => `/v1/${e}`),
    });
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(input.bodyBase64, 'base64').toString('utf8'));
  } catch {
    throw badInput('the body must be a JSON object');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badInput('the body must be a JSON object');
  const fields = body as Record<string, unknown>;
  if (fields.model !== undefined && (typeof fields.model !== 'string' || !fields.model))
    throw badInput('model must be a model name', { field: 'model' });
  // Streaming answers are served by /v1/chat/completions only; here an answer is relayed whole.
  if (fields.stream === true)
    throw badInput(`stream: true is not passed through for /v1/${input.endpoint}`, { field: 'stream' });
  // A call naming no model goes to the platform's default one, like chat.
  const model = (fields.model as string | undefined) ?? chatSettings().defaultModel;
  return { body: JSON.stringify({ ...fields, model }), model };
}

@Resolver()
export class RelayResolver {
  @RequiresScopes('orders')
  @Mutation(() => OpenAiRelay, {
    description:
      'Pass an OpenAI-compatible call (embeddings, completions, moderations, responses) to the provider ' +
      'of its model and meter it at that model’s price; the answer comes back as the provider sent it.',
  })
  async relayOpenAi(
    @Arg('input') input: OpenAiRelayInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<OpenAiRelay> {
    const ownerId = ctx.me().accountId;
    const { body, model } = requestOf(input);
    const provider = providerFor(model);
    if (!provider) throw new AppError('UPSTREAM_UNAVAILABLE', `no upstream answers model ${model}`);
    const started = performance.now();
    let answer: Awaited<ReturnType<typeof provider.relay>>;
    try {
      answer = await provider.relay(`/${input.endpoint}`, body);
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      throw new AppError(
        error.code === 'UPSTREAM_TIMEOUT' ? 'GATEWAY_TIMEOUT' : 'UPSTREAM_UNAVAILABLE',
        error.message,
      );
    }
    if (answer.body.length > MAX_ANSWER_BYTES)
      throw new AppError('BAD_GATEWAY', `the upstream answer is larger than ${MAX_ANSWER_BYTES} bytes`);
    const latencyMs = Math.round(performance.now() - started);
    const id = newId('relay');
    const answered = {
      id,
      status: answer.status,
      contentType: answer.contentType,
      bodyBase64: answer.body.toString('base64'),
      provider: provider.name,
      model,
      latencyMs,
    };
    // A call the provider refused used nothing: it is passed back unpriced and not recorded, so a
    // refused request writes nothing.
    if (answer.status < 200 || answer.status >= 300)
      return { ...answered, promptTokens: 0, completionTokens: 0, priceMicroUsd: 0n };
    const usage = usageOf(answer.body, body);
    const priceMicroUsd = priceOf(usage, chatSettings().pricesOf(model));
    await ctx.em.execute(
      `insert into "sessions"."relay_call"
         ("id", "owner_id", "endpoint", "model", "provider", "status", "prompt_tokens", "completion_tokens",
          "price_micro_usd", "latency_ms")
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        ownerId,
        input.endpoint,
        model,
        provider.name,
        answer.status,
        usage.promptTokens,
        usage.completionTokens,
        priceMicroUsd.toString(),
        latencyMs,
      ],
    );
    return {
      ...answered,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      priceMicroUsd,
    };
  }
}
