import { performance } from 'node:perf_hooks';
import {
  Arg,
  Ctx,
  Field,
  ID,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from 'type-graphql';
import { AppError, BigIntScalar, newId, RequiresScopes, type SubgraphContext } from '../../lib';
import { chatSettings, providerFor } from './chat.providers';
import { UpstreamError, type LlmProvider } from './chat.upstream';
import { OpenAiRelayStreamEvent, refusalOf, relayEvents } from './relay.stream';
import {
  holdRelay,
  meterRelay,
  RELAY_ENDPOINTS,
  RelayMeter,
  relayRequestOf,
  releaseRelay,
  type RelayRequest,
} from './relay.metering';

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

  @Field(() => BigIntScalar, { description: 'Charged from your credits (BILLING=on); else 0.' })
  chargedMicroUsd!: bigint;

  @Field(() => Int)
  latencyMs!: number;
}

/** The provider of a request's model, or UPSTREAM_UNAVAILABLE. */
function providerOf(request: RelayRequest): LlmProvider {
  const provider = providerFor(request.model);
  if (!provider) throw new AppError('UPSTREAM_UNAVAILABLE', `no upstream answers model ${request.model}`);
  return provider;
}

const relayFailure = (error: unknown) =>
  error instanceof UpstreamError
    ? new AppError(
        error.code === 'UPSTREAM_TIMEOUT' ? 'GATEWAY_TIMEOUT' : 'UPSTREAM_UNAVAILABLE',
        error.message,
      )
    : error;

@Resolver()
export class RelayResolver {
  @RequiresScopes('orders')
  @Mutation(() => OpenAiRelay, {
    description:
      'Pass an OpenAI-compatible call (embeddings, completions, moderations, responses) to the provider ' +
      'of its model and meter it at that model’s price (charged from credits with BILLING=on); the ' +
      'answer comes back as the provider sent it. Streams go through relayOpenAiStream.',
  })
  async relayOpenAi(
    @Arg('input') input: OpenAiRelayInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<OpenAiRelay> {
    const request = relayRequestOf(input);
    if (request.stream)
      throw new AppError('BAD_USER_INPUT', 'a stream is served by relayOpenAiStream', { field: 'stream' });
    const provider = providerOf(request);
    const id = newId('relay');
    const held = await holdRelay(ctx, id, request, chatSettings().pricesOf(request.model));
    const started = performance.now();
    let answer: Awaited<ReturnType<typeof provider.relay>>;
    try {
      answer = await provider.relay(`/${input.endpoint}`, request.body);
      if (answer.body.length > MAX_ANSWER_BYTES)
        throw new AppError('BAD_GATEWAY', `the upstream answer is larger than ${MAX_ANSWER_BYTES} bytes`);
    } catch (error) {
      await releaseRelay(ctx, id, held);
      throw relayFailure(error);
    }
    const latencyMs = Math.round(performance.now() - started);
    const answered = {
      id,
      status: answer.status,
      contentType: answer.contentType,
      bodyBase64: answer.body.toString('base64'),
      provider: provider.name,
      model: request.model,
      latencyMs,
    };
    // A call the provider refused used nothing: it is passed back unpriced and not recorded, so a
    // refused request writes nothing.
    if (answer.status < 200 || answer.status >= 300) {
      await releaseRelay(ctx, id, held);
      return { ...answered, promptTokens: 0, completionTokens: 0, priceMicroUsd: 0n, chargedMicroUsd: 0n };
    }
    const meter = new RelayMeter(request.body);
    meter.add(answer.body.toString('utf8'));
    const usage = meter.usage();
    const call = {
      id,
      request,
      provider: provider.name,
      status: answer.status,
      usage,
      latencyMs,
      complete: true,
    };
    return { ...answered, ...usage, ...(await meterRelay(ctx, call, held)) };
  }

  @RequiresScopes('orders')
  @Subscription(() => OpenAiRelayStreamEvent, {
    description:
      'Pass an OpenAI-compatible call with "stream": true (completions, responses) to the provider of its ' +
      'model: its Server-Sent Events come back unchanged, up to its own end, then one METERED result. ' +
      'Unsubscribing early aborts the upstream call (metered, not charged).',
    subscribe: async ({
      args,
      context,
    }: SubscribeResolverData<unknown, { input: OpenAiRelayInput }, SubgraphContext>) => {
      const request = relayRequestOf(args.input);
      if (!request.stream)
        throw new AppError('BAD_USER_INPUT', 'relayOpenAiStream needs "stream": true', { field: 'stream' });
      const provider = providerOf(request);
      const id = newId('relay');
      const held = await holdRelay(context, id, request, chatSettings().pricesOf(request.model));
      const abort = new AbortController();
      const started = performance.now();
      let response: Response;
      try {
        response = await provider.relayStream(`/${request.endpoint}`, request.body, abort.signal);
        // A refusal is an error before anything streams, so REST answers it with its status.
        if (!response.ok) throw await refusalOf(response);
      } catch (error) {
        abort.abort();
        await releaseRelay(context, id, held);
        throw relayFailure(error);
      }
      return relayEvents(context, { id, request, provider, response, held, abort, started });
    },
  })
  relayOpenAiStream(
    @Root() event: OpenAiRelayStreamEvent,
    @Arg('input') _input: OpenAiRelayInput,
  ): OpenAiRelayStreamEvent {
    return event;
  }
}
