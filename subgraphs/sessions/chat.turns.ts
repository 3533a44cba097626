import type { EntityManager, Logger, PubSub } from '../../lib';
import { Message, MessageRole, Turn, TurnStatus, UsageRecord } from './chat.entities';
import {
  ChatEventKind,
  chatTopic,
  lastSeq,
  storeEvent,
  toUsageWire,
  type ChatError,
  type ChatEventPayload,
  type ChatUsage,
} from './chat.events';
import { approximateTokens, priceOf, type PriceTable, type TokenUsage } from './chat.pricing';
import { UpstreamError, type LlmProvider, type UpstreamMessage } from './chat.upstream';

export const CANCEL_TOPIC = 'sessions.turn-cancel';

export interface TurnDeps {
  em: EntityManager;
  pubsub: PubSub;
  log: Logger;
}

/** Turns answering in this process, so a cancel (from any replica) can abort their upstream call. */
const running = new Map<string, { controller: AbortController; done: Promise<void> }>();

/** Aborts a turn if this process runs it; true when it did. */
export function abortLocalTurn(turnId: string): boolean {
  const turn = running.get(turnId);
  turn?.controller.abort();
  return Boolean(turn);
}

/** Aborts every local turn and waits for each to record what it had; used at shutdown. */
export async function abortAllTurns(): Promise<void> {
  const turns = [...running.values()];
  for (const turn of turns) turn.controller.abort();
  await Promise.all(turns.map((turn) => turn.done));
}

/** Starts answering in the background; the caller returns at once. Never throws. */
export function startTurn(deps: TurnDeps, turn: Turn, provider: LlmProvider, prices: PriceTable): void {
  const controller = new AbortController();
  const done = runTurn(deps, turn, provider, prices, controller.signal)
    .catch((error: unknown) => deps.log.error({ err: error, turnId: turn.id }, 'turn failed to record'))
    .finally(() => running.delete(turn.id));
  running.set(turn.id, { controller, done });
}

async function runTurn(
  deps: TurnDeps,
  turn: Turn,
  provider: LlmProvider,
  prices: PriceTable,
  signal: AbortSignal,
): Promise<void> {
  const em = deps.em.fork();
  let seq = await lastSeq(em, turn.sessionId);
  const event = (kind: ChatEventKind, fields: Partial<ChatEventPayload> = {}): ChatEventPayload => ({
    sessionId: turn.sessionId,
    turnId: turn.id,
    seq: ++seq,
    kind,
    delta: null,
    usage: null,
    error: null,
    at: new Date().toISOString(),
    ...fields,
  });
  // Publishes go one after another so subscribers mostly see seq order (they reorder anyway).
  let published = Promise.resolve();
  const publish = (payload: ChatEventPayload) => {
    published = published.then(() =>
      deps.pubsub.publish(chatTopic(turn.ownerId), payload).catch((error: unknown) => {
        deps.log.error({ err: error, turnId: turn.id, seq: payload.seq }, 'chat event not published');
      }),
    );
  };
  const emit = async (payload: ChatEventPayload) => {
    await storeEvent(em, payload);
    publish(payload);
  };

  const startedAt = performance.now();
  let firstTokenMs: number | null = null;
  let answer = '';
  let reported: { promptTokens: number; completionTokens: number } | undefined;
  let failure: UpstreamError | undefined;
  try {
    await emit(event(ChatEventKind.STARTED));
    const messages: UpstreamMessage[] = turn.context.map(({ role, content }) => ({
      role: role.toLowerCase() as UpstreamMessage['role'],
      content,
    }));
    for await (const chunk of provider.stream(turn.model, messages, signal)) {
      if (chunk.kind === 'usage') {
        reported = chunk;
        continue;
      }
      firstTokenMs ??= Math.round(performance.now() - startedAt);
      answer += chunk.delta;
      await emit(event(ChatEventKind.TOKEN, { delta: chunk.delta }));
    }
  } catch (error) {
    failure =
      error instanceof UpstreamError
        ? error
        : new UpstreamError('UPSTREAM_INTERRUPTED', 'the answer could not be streamed', {
            retryable: false,
            failure: false,
          });
    if (!(error instanceof UpstreamError))
      deps.log.error({ err: error, turnId: turn.id }, 'turn stream failed');
  }

  const answered = answer !== '' || !failure;
  const tokens: TokenUsage = reported
    ? { ...reported, estimated: false }
    : {
        promptTokens: approximateTokens(turn.context.map((message) => message.content).join('\n')),
        completionTokens: approximateTokens(answer),
        estimated: true,
      };
  // Nothing generated, nothing charged: only answers (complete or not) are metered.
  const usage: ChatUsage | null = answered
    ? {
        ...tokens,
        totalTokens: tokens.promptTokens + tokens.completionTokens,
        costMicroUsd: priceOf(tokens, prices),
      }
    : null;
  const error: ChatError | null = failure ? { code: failure.code, message: failure.message } : null;
  const status = !failure ? TurnStatus.COMPLETE : answered ? TurnStatus.INTERRUPTED : TurnStatus.FAILED;
  const last = event(failure ? ChatEventKind.ERROR : ChatEventKind.COMPLETED, {
    usage: usage && toUsageWire(usage),
    error,
  });

  await em.transactional(async (tx) => {
    const stored = await tx.findOneOrFail(Turn, turn.id);
    let messages = 0;
    if (answered) {
      const message = tx.create(Message, {
        sessionId: turn.sessionId,
        role: MessageRole.ASSISTANT,
        content: answer,
        tokens: tokens.completionTokens,
        complete: !failure,
      });
      await tx.flush(); // before the turn points at it: the inserts are not ordered by foreign key
      stored.assistantMessageId = message.id;
      messages = 1;
    }
    Object.assign(stored, {
      status,
      promptTokens: usage?.promptTokens ?? 0,
      completionTokens: usage?.completionTokens ?? 0,
      costMicroUsd: usage?.costMicroUsd ?? 0n,
      latencyMs: Math.round(performance.now() - startedAt),
      firstTokenLatencyMs: firstTokenMs,
      errorCode: error?.code ?? null,
      errorMessage: error?.message ?? null,
      finishedAt: new Date(),
    });
    if (usage)
      tx.create(UsageRecord, {
        idempotencyKey: turn.id,
        ownerId: turn.ownerId,
        sessionId: turn.sessionId,
        turnId: turn.id,
        provider: turn.provider,
        model: turn.model,
        promptTokens: usage.promptTokens,
        completionTokens: usage.completionTokens,
        estimated: usage.estimated,
        priceMicroUsd: usage.costMicroUsd,
      });
    await tx.flush();
    // Counters are incremented in place so a concurrent close never loses them.
    await tx.execute(
      `update "sessions"."session" set "message_count" = "message_count" + ?, "input_tokens" = "input_tokens" + ?,
         "output_tokens" = "output_tokens" + ?, "cost_micro_usd" = "cost_micro_usd" + ? where "id" = ?`,
      [
        messages,
        usage?.promptTokens ?? 0,
        usage?.completionTokens ?? 0,
        String(usage?.costMicroUsd ?? 0n),
        turn.sessionId,
      ],
    );
    // The final event is written with the turn: it exists exactly when the turn has ended.
    await storeEvent(tx, last);
  });
  publish(last);
  await published;
}
