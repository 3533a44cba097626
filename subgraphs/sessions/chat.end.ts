import { LockMode } from '@mikro-orm/core';
import type { EntityManager, Logger } from '../../lib';
import { Message, MessageRole, Turn, TurnSettlement, TurnStatus, UsageRecord } from './chat.entities';
import {
  ChatEventKind,
  lastSeq,
  storeEvent,
  toUsageWire,
  type ChatError,
  type ChatEventPayload,
  type ChatUsage,
} from './chat.events';
import { chatEvent } from './chat.outlet';
import { approximateTokens, priceOf, type PriceTable, type TokenUsage } from './chat.pricing';
import { safeText } from './chat.upstream';

export interface TurnEnd {
  turn: Turn;
  prices: PriceTable;
  answer: string;
  reported?: { promptTokens: number; completionTokens: number };
  failure?: { code: string; message: string };
  latencyMs: number | null;
  firstTokenLatencyMs: number | null;
  closeSession: boolean;
  /** The last seq this turn's runner published: should one of them not be stored, no later event takes its seq. */
  publishedSeq?: number;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** Saturated session totals: a session of many huge answers stays within its columns. */
const MAX_SESSION_TOKENS = 2 ** 31 - 1;
const MAX_SESSION_COST = 2n ** 63n - 1n;

/**
 * The one place a turn ends: records it, and should that fail on what it carries, records it again
 * as FAILED without its answer, so that no content can leave a turn RUNNING. Returns the final event
 * to publish, or nothing when the turn had already ended.
 */
export async function endTurn(
  em: EntityManager,
  log: Logger,
  end: TurnEnd,
): Promise<ChatEventPayload | undefined> {
  try {
    return await recordEnd(em, end);
  } catch (error) {
    log.error({ err: error, turnId: end.turn.id }, 'turn end not recorded; ending it without its answer');
    return recordEnd(em, {
      ...end,
      answer: '',
      reported: undefined,
      failure: { code: 'UPSTREAM_ERROR', message: 'the answer could not be recorded' },
    });
  }
}

/**
 * Records how a turn ended, all in one transaction: the assistant message (what came, complete or
 * not), the metered usage, the session's counters and the final event, numbered after the last
 * stored one. Returns that event, or nothing when the turn had already been recorded (by the sweep,
 * or its runner).
 */
async function recordEnd(em: EntityManager, end: TurnEnd): Promise<ChatEventPayload | undefined> {
  const { turn, failure } = end;
  const answer = safeText(end.answer);
  const answered = answer !== '' || !failure;
  // The stored context is read back as it is: a row written by hand may not be a list.
  const context = Array.isArray(turn.context) ? turn.context : [];
  const tokens: TokenUsage = end.reported
    ? { ...end.reported, estimated: false }
    : {
        promptTokens: approximateTokens(context.map((message) => String(message.content)).join('\n')),
        completionTokens: approximateTokens(answer),
        estimated: true,
      };
  // Nothing generated, nothing charged: only answers (complete or not) are metered.
  const usage: ChatUsage | null = answered
    ? {
        ...tokens,
        totalTokens: tokens.promptTokens + tokens.completionTokens,
        costMicroUsd: priceOf(tokens, end.prices),
      }
    : null;
  const error: ChatError | null = failure ? { code: failure.code, message: safeText(failure.message) } : null;
  const status = !failure ? TurnStatus.COMPLETE : answered ? TurnStatus.INTERRUPTED : TurnStatus.FAILED;

  // A fresh unit of work per attempt: a failed one leaves nothing behind for the next.
  return em.fork().transactional(async (tx) => {
    const stored = await tx.findOneOrFail(Turn, turn.id, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (stored.status !== TurnStatus.RUNNING) return undefined;
    // A billed turn pays its price when complete (never more than it held), nothing otherwise;
    // recorded with its end, so the reconciler can send it should this process stop first.
    const charged =
      stored.settlement !== TurnSettlement.HELD
        ? null
        : usage && status === TurnStatus.COMPLETE
          ? min(usage.costMicroUsd, stored.heldMicroUsd ?? 0n)
          : 0n;
    if (usage && charged !== null) usage.chargedMicroUsd = charged;
    // The turn is locked and its runner done, so nothing else numbers events of this session now.
    const last = chatEvent(
      turn,
      Math.max(await lastSeq(tx, turn.sessionId), end.publishedSeq ?? 0) + 1,
      failure ? ChatEventKind.ERROR : ChatEventKind.COMPLETED,
      { usage: usage && toUsageWire(usage), error },
    );
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
      latencyMs: end.latencyMs,
      firstTokenLatencyMs: end.firstTokenLatencyMs,
      errorCode: error?.code ?? null,
      errorMessage: error?.message ?? null,
      finishedAt: new Date(),
      chargedMicroUsd: charged,
      callFeeMicroUsd: usage ? end.prices.perCallMicroUsd : 0n,
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
      `update "sessions"."session" set "message_count" = "message_count" + ?,
         "input_tokens" = least("input_tokens"::bigint + ?, ${MAX_SESSION_TOKENS}),
         "output_tokens" = least("output_tokens"::bigint + ?, ${MAX_SESSION_TOKENS}),
         "cost_micro_usd" = least("cost_micro_usd"::numeric + ?, ${MAX_SESSION_COST})::bigint,
         "status" = case when ? then 'CLOSED' else "status" end,
         "ended_at" = case when ? then coalesce("ended_at", now()) else "ended_at" end
       where "id" = ?`,
      [
        messages,
        usage?.promptTokens ?? 0,
        usage?.completionTokens ?? 0,
        // Billed, the session's cost is what its turns were charged (AUTX's consumed_usd).
        String(charged ?? usage?.costMicroUsd ?? 0n),
        end.closeSession,
        end.closeSession,
        turn.sessionId,
      ],
    );
    // The final event is written with the turn: it exists exactly when the turn has ended.
    await storeEvent(tx, last);
    return last;
  });
}
