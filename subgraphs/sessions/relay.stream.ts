import { performance } from 'node:perf_hooks';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import {
  AppError,
  BigIntScalar,
  serverSentEvents,
  type ErrorCode,
  type ServerSentEvent,
  type SubgraphContext,
} from '../../lib';
import type { LlmProvider } from './chat.upstream';
import { meterRelay, RelayMeter, type RelayRequest } from './relay.metering';

/**
 * A passed-through stream (relayOpenAiStream in relay.resolver.ts): the provider's Server-Sent
 * Events as GraphQL results, unchanged, then what the call was metered at.
 */

export enum RelayStreamEventKind {
  /** One Server-Sent Event of the provider's stream, as it sent it. */
  EVENT = 'EVENT',
  /** The last result: the stream ended and the call was metered. */
  METERED = 'METERED',
  /** The only result of a stream that failed before its first event (a GraphQL error code and message). */
  ERROR = 'ERROR',
}
registerEnumType(RelayStreamEventKind, { name: 'RelayStreamEventKind' });

@ObjectType({
  description:
    "One result of a passed-through stream: a provider's event, unchanged, or (last) what it was metered at.",
})
export class OpenAiRelayStreamEvent {
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

  @Field(() => String, { nullable: true, description: 'ERROR: GATEWAY_TIMEOUT or BAD_GATEWAY.' })
  errorCode?: string | null;

  @Field(() => String, { nullable: true })
  errorMessage?: string | null;
}

/** What a provider's refusal of a stream becomes: its own status where ours has one, else 502. */
const REFUSAL_CODES: Record<number, ErrorCode> = {
  400: 'BAD_USER_INPUT',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
};

export async function refusalOf(response: Response): Promise<AppError> {
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

export interface OpenStream {
  id: string;
  request: RelayRequest;
  provider: LlmProvider;
  response: Response;
  held: bigint | undefined;
  abort: AbortController;
  started: number;
}

/**
 * The provider's events as they come, then the METERED result. A provider silent for longer than
 * its timeout is cut off; one that fails before its first event is an error (nothing was sent),
 * after it the stream just ends, as the provider's did. A caller who leaves early (the iterator
 * returned) aborts the upstream request. A stream that did not end is metered, not charged.
 */
export async function* relayEvents(
  ctx: SubgraphContext,
  s: OpenStream,
): AsyncGenerator<OpenAiRelayStreamEvent> {
  const meter = new RelayMeter(s.request.body);
  let complete = false;
  let failure: unknown;
  let timedOut = false;
  let sent = 0;
  const idle = setTimeout(() => {
    timedOut = true;
    s.abort.abort();
  }, s.provider.timeoutMs);
  const call = () => ({
    id: s.id,
    request: s.request,
    provider: s.provider.name,
    status: s.response.status,
    usage: meter.usage(),
    latencyMs: Math.round(performance.now() - s.started),
    complete,
  });
  try {
    const whole = !/text\/event-stream/.test(s.response.headers.get('content-type') ?? '');
    // A provider that ignored `stream: true` answered whole: passed on as one event.
    const events = whole
      ? (async function* (): AsyncGenerator<ServerSentEvent> {
          yield { data: await s.response.text() };
        })()
      : serverSentEvents(s.response.body!);
    for await (const { event, id, data } of events) {
      idle.refresh();
      meter.add(data);
      sent++;
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
    failure = error;
    ctx.log.warn({ err: error, relayId: s.id, timedOut }, 'relay stream broke off');
  } finally {
    clearTimeout(idle);
    s.abort.abort();
    // The caller is gone (neither an end nor a failure): metered in the background, nobody waits.
    if (!complete && failure === undefined)
      void meterRelay(ctx, call(), s.held).catch((error: unknown) =>
        ctx.log.error({ err: error, relayId: s.id }, 'relay not metered'),
      );
  }
  const ended = call();
  const { priceMicroUsd, chargedMicroUsd } = await meterRelay(ctx, ended, s.held);
  if (complete)
    yield {
      kind: RelayStreamEventKind.METERED,
      relayId: s.id,
      ...emptyEvent,
      promptTokens: ended.usage.promptTokens,
      completionTokens: ended.usage.completionTokens,
      priceMicroUsd,
      chargedMicroUsd,
    };
  else if (sent === 0)
    // A result rather than a thrown error: an error inside a subscription's stream reaches no client.
    yield {
      kind: RelayStreamEventKind.ERROR,
      relayId: s.id,
      ...emptyEvent,
      ...noMeter,
      errorCode: timedOut ? 'GATEWAY_TIMEOUT' : 'BAD_GATEWAY',
      errorMessage: timedOut
        ? `no data from the upstream for ${s.provider.timeoutMs} ms`
        : 'the upstream stream failed before its first event',
    };
}
