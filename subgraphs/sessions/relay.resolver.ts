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
  registerEnumType,
  Resolver,
  Root,
  Subscription,
  type SubscribeResolverData,
} from 'type-graphql';
import {
  AppError,
  BigIntScalar,
  newId,
  RequiresScopes,
  serverSentEvents,
  type ServerSentEvent,
  type ErrorCode,
  type SubgraphContext,
} from '../../lib';
import { chatSettings, providerFor } from './chat.providers';
import { UpstreamError, type LlmProvider } from './chat.upstream';
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

export enum RelayStreamEventKind {
  /** One Server-Sent Event of the provider's stream, as it sent it. */
  EVENT = 'EVENT',
  /** The last result: the stream ended and the call was metered. */
  METERED = 'METERED',
}
registerEnumType(RelayStreamEventKind, { name: 'RelayStreamEventKind' });

@ObjectType({
  description:
    "One result of a passed-through stream: a provider's event, unchanged, or (last) what it was metered at.",
})
class OpenAiRelayStreamEvent {
  @Field(() => RelayStreamEventKind)
  kind!: RelayStreamEventKind;

  @Field(() => ID, { description: 'The relay call.' })
  relayId!: string;

  @Field(() => String, { nullable: true, description: "The event's `event:` name, if it had one." })
  event!: string | null;

  @Field(() => String, { nullable: true, description: "The event's `id:`, if it had one." })
  eventId!: string | null;

  @Field(() => String, { nullable: true, description: "The event's data as sent (OpenAI's [DONE] too)." })
  data!: string | null;

  @Field(() => Int, { nullable: true })
  promptTokens!: number | null;

  @Field(() => Int, { nullable: true })
  completionTokens!: number | null;

  @Field(() => BigIntScalar, { nullable: true })
  priceMicroUsd!: bigint | null;

  @Field(() => BigIntScalar, { nullable: true })
  chargedMicroUsd!: bigint | null;
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

/** What a provider's refusal of a stream becomes: its own status where ours has one, else 502. */
const REFUSAL_CODES: Record<number, ErrorCode> = {
  400: 'BAD_USER_INPUT',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
};

async function refusalOf(response: Response): Promise<AppError> {
  const text = await response.text().catch(() => '');
  let message: unknown;
  try {
    const { error } = JSON.parse(text) as { error?: { message?: unknown } | string };
    message = typeof error === 'string' ? error : error?.message;
  } catch {
    message = undefined;
  }
  return new AppError(
    REFUSAL_CODES[response.status] ?? 'BAD_GATEWAY',
    typeof message === 'string' ? message.slice(0, 1000) : `the upstream answered ${response.status}`,
    { upstreamStatus: response.status },
  );
}

const emptyEvent = { event: null, eventId: null, data: null };
const noMeter = { promptTokens: null, completionTokens: null, priceMicroUsd: null, chargedMicroUsd: null };

interface OpenStream {
  id: string;
  request: RelayRequest;
  provider: LlmProvider;
  response: Response;
  held: bigint | undefined;
  abort: AbortController;
  started: number;
}

/**
 * The provider's events as they come, then the METERED result. A caller who leaves early (the
 * iterator returned) aborts the upstream request; what came is metered, not charged.
 */
async function* relayEvents(ctx: SubgraphContext, s: OpenStream): AsyncGenerator<OpenAiRelayStreamEvent> {
  const meter = new RelayMeter(s.request.body);
  let complete = false;
  let failed = false;
  try {
    const whole = !/text\/event-stream/.test(s.response.headers.get('content-type') ?? '');
    // A provider that ignored `stream: true` answered whole: passed on as one event.
    const events = whole
      ? (async function* (): AsyncGenerator<ServerSentEvent> {
          yield { data: await s.response.text() };
        })()
      : serverSentEvents(s.response.body!);
    for await (const { event, id, data } of events) {
      meter.add(data);
      yield {
        kind: RelayStreamEventKind.EVENT,
        relayId: s.id,
        event: event ?? null,
        eventId: id ?? null,
        data,
        ...noMeter,
      };
    }
    complete = true;
  } catch (error) {
    failed = true;
    ctx.log.warn({ err: error, relayId: s.id }, 'relay stream broke off');
  } finally {
    s.abort.abort();
    const latencyMs = Math.round(performance.now() - s.started);
    const usage = meter.usage();
    const settled = meterRelay(
      ctx,
      {
        id: s.id,
        request: s.request,
        provider: s.provider.name,
        status: s.response.status,
        usage,
        latencyMs,
        complete,
      },
      s.held,
    );
    if (complete || failed) {
      const { priceMicroUsd, chargedMicroUsd } = await settled;
      if (complete)
        yield {
          kind: RelayStreamEventKind.METERED,
          relayId: s.id,
          ...emptyEvent,
          promptTokens: usage.promptTokens,
          completionTokens: usage.completionTokens,
          priceMicroUsd,
          chargedMicroUsd,
        };
    } else {
      // The caller is gone: metered in the background, nobody waits for it.
      void settled.catch((error: unknown) =>
        ctx.log.error({ err: error, relayId: s.id }, 'relay not metered'),
      );
    }
  }
}

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
