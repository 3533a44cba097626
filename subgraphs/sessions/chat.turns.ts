import { LockMode } from '@mikro-orm/core';
import { metrics, type EntityManager, type Logger, type Peers, type PubSub } from '../../lib';
import { settleTurn } from './chat.billing';
import { rememberTurn } from './chat.memory';
import { Message, MessageRole, Turn, TurnSettlement, TurnStatus, UsageRecord } from './chat.entities';
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
import { chatEvent, TurnOutlet } from './chat.outlet';
import { approximateTokens, priceOf, type PriceTable, type TokenUsage } from './chat.pricing';
import {
  safeText,
  UpstreamError,
  type LlmProvider,
  type UpstreamMessage,
  type UpstreamToolCall,
} from './chat.upstream';
import { offeredTools, runModelCall } from './tools/offer';

export const CANCEL_TOPIC = 'sessions.turn-cancel';

export interface TurnDeps {
  em: EntityManager;
  pubsub: PubSub;
  log: Logger;
  /** To settle a billed turn's hold in the wallet when it ends. */
  peers?: Peers;
}

/** Turns answering in this process, so a cancel (from any replica) can abort their upstream call. */
const running = new Map<string, { controller: AbortController; done: Promise<void> }>();
export const runningTurnCount = () => running.size;

/** Resolves once a turn this process runs is recorded; at once for any other. */
export const recordedHere = (turnId: string): Promise<void> => running.get(turnId)?.done ?? Promise.resolve();

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

/** What a turn's runner knows when it starts. */
export interface TurnPlan {
  turn: Turn;
  provider: LlmProvider;
  prices: PriceTable;
  /** Close the session once this answer is recorded (one-shot OpenAI-style calls). */
  closeSession?: boolean;
  /** What goes upstream when it differs from the turn's own (a billed turn's max tokens bound). */
  upstreamParameters?: Turn['parameters'];
}

/**
 * Starts answering in the background; resolves once the turn is recorded. Never rejects. The one
 * place a stored turn starts; {@link endTurn} is the one place it ends.
 */
export function startTurn(deps: TurnDeps, plan: TurnPlan): Promise<void> {
  const controller = new AbortController();
  const { turn } = plan;
  // Should even the fallback end fail (the database gone), the turn is left to the sweep:
  // once it leaves `running`, nothing here claims it any more.
  const done = runTurn(deps, plan, controller.signal)
    .catch((error: unknown) => deps.log.error({ err: error, turnId: turn.id }, 'turn failed to record'))
    .finally(() => running.delete(turn.id));
  running.set(turn.id, { controller, done });
  return done;
}

const SESSIONS = { subgraph: 'sessions' } as const;

async function runTurn(deps: TurnDeps, plan: TurnPlan, signal: AbortSignal): Promise<void> {
  metrics.chatStreams.inc(SESSIONS);
  try {
    await streamTurn(deps, plan, signal);
  } finally {
    metrics.chatStreams.dec(SESSIONS);
  }
}

async function streamTurn(deps: TurnDeps, plan: TurnPlan, signal: AbortSignal): Promise<void> {
  const { turn, provider } = plan;
  const em = deps.em.fork();
  let outlet: TurnOutlet | undefined;
  const startedAt = performance.now();
  let firstTokenMs: number | null = null;
  let answer = '';
  let reported: { promptTokens: number; completionTokens: number } | undefined;
  let failure: UpstreamError | undefined;
  try {
    outlet = new TurnOutlet(deps, turn, await lastSeq(em, turn.sessionId));
    await outlet.emit(ChatEventKind.STARTED);
    const messages: UpstreamMessage[] = turn.context.map(({ role, content }) => ({
      role: role.toLowerCase() as 'system' | 'user' | 'assistant',
      content,
    }));
    let offered = await offeredTools(em, deps.log).catch((error: unknown) => {
      deps.log.error({ err: error, turnId: turn.id }, 'tools not offered');
      return undefined;
    });
    // Rounds: the model answers, or asks for tool calls whose results go back to it, at most
    // TOOL_MAX_ROUNDS times; the last round offers no tools, so it must answer.
    for (let round = 0; ; round++) {
      const tools = offered && round < offered.settings.maxRounds ? offered.functions : undefined;
      let calls: UpstreamToolCall[] = [];
      let said = '';
      try {
        for await (const chunk of provider.stream(
          turn.model,
          messages,
          signal,
          plan.upstreamParameters ?? turn.parameters,
          tools,
        )) {
          if (chunk.kind === 'usage') {
            reported = reported
              ? {
                  promptTokens: reported.promptTokens + chunk.promptTokens,
                  completionTokens: reported.completionTokens + chunk.completionTokens,
                }
              : chunk;
            continue;
          }
          if (chunk.kind === 'toolCalls') {
            calls = chunk.calls;
            continue;
          }
          if (outlet.storeFailure) throw outlet.storeFailure;
          firstTokenMs ??= Math.round(performance.now() - startedAt);
          metrics.tokensStreamed.inc(SESSIONS);
          said += chunk.delta;
          answer += chunk.delta;
          outlet.token(chunk.delta);
        }
      } catch (error) {
        // An upstream that takes no `tools` refuses the request (4xx) before anything came: the
        // turn is answered without them.
        const refused = error instanceof UpstreamError && error.code === 'UPSTREAM_REJECTED';
        if (!tools || !refused || said || calls.length) throw error;
        deps.log.warn(
          { err: error, turnId: turn.id },
          'the upstream refused the tools; answering without them',
        );
        offered = undefined;
        continue;
      }
      if (!offered || !tools || !calls.length) break;
      const offering = offered;
      messages.push({
        role: 'assistant',
        content: said || null,
        tool_calls: calls.map(({ id, name, arguments: args }) => ({
          id,
          type: 'function',
          function: { name, arguments: args },
        })),
      });
      // The calls of one round run together; their results go back in the order asked.
      messages.push(
        ...(await Promise.all(calls.map((call) => runModelCall(em, offering, call, turn, signal, deps.log)))),
      );
    }
    await outlet.settled();
    if (outlet.storeFailure) throw outlet.storeFailure;
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
    await outlet?.settled(); // what came before the failure is stored before the end is
  }

  const last = await endTurn(em, deps.log, {
    turn,
    prices: plan.prices,
    answer,
    reported,
    failure,
    latencyMs: Math.round(performance.now() - startedAt),
    firstTokenLatencyMs: firstTokenMs,
    closeSession: plan.closeSession ?? false,
    publishedSeq: outlet?.lastSeq,
  });
  // Settled before the last event goes out: who sees the end sees the balance it left.
  if (deps.peers) await settleTurn({ em: deps.em, peers: deps.peers, log: deps.log }, turn.id);
  // The pub/sub keeps publish order: the last event follows the turn's tokens.
  if (last) await publishEvent(deps, turn, last);
  await outlet?.sent();
  // Remembered once the turn is recorded and announced: memory never delays nor fails an answer.
  if (deps.peers && last?.kind === ChatEventKind.COMPLETED)
    await rememberTurn(
      { em: deps.em, peers: deps.peers, log: deps.log },
      turn,
      safeText(answer),
      !plan.closeSession,
    );
}

interface TurnEnd {
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
async function endTurn(em: EntityManager, log: Logger, end: TurnEnd): Promise<ChatEventPayload | undefined> {
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

/** Turns one sweep query reads; a sweep reads on until none is left. */
const SWEEP_BATCH = 100;

/**
 * Ends turns whose runner died (a crashed or killed replica, or an exception between two steps): a
 * turn still RUNNING that no process here runs and that recorded nothing for longer than any live
 * runner stays silent. What it had streamed is kept as an interrupted answer. A turn that cannot be
 * ended is logged and skipped; the others still are. Returns how many were ended.
 */
export async function sweepAbandonedTurns(
  deps: TurnDeps,
  maxSilenceMs: number,
  pricesOf: (model: string) => PriceTable,
) {
  const em = deps.em.fork();
  let ended = 0;
  // Read in id order from where the last batch stopped, so turns that keep failing cannot hide
  // the rest behind them.
  for (let after = ''; ;) {
    const stale = await em.execute<{ id: string }[]>(
      `select t."id" from "sessions"."turn" t
        where t."status" = 'RUNNING' and t."id" > ?
          and greatest(t."created_at", (select max(e."at") from "sessions"."chat_event" e where e."turn_id" = t."id"))
              < now() - make_interval(secs => ?)
        order by t."id"
        limit ${SWEEP_BATCH}`,
      [after, maxSilenceMs / 1000],
    );
    for (const { id } of stale) {
      if (running.has(id)) continue;
      try {
        if (await endAbandonedTurn(deps, em.fork(), id, pricesOf)) ended++;
      } catch (error) {
        deps.log.error({ err: error, turnId: id }, 'abandoned turn could not be ended; skipped');
      }
    }
    if (stale.length < SWEEP_BATCH) return ended;
    after = stale.at(-1)!.id;
  }
}

async function endAbandonedTurn(
  deps: TurnDeps,
  em: EntityManager,
  id: string,
  pricesOf: (model: string) => PriceTable,
): Promise<boolean> {
  const turn = await em.findOneOrFail(Turn, id);
  const tokens = await em.execute<{ delta: string | null }[]>(
    `select "delta" from "sessions"."chat_event" where "turn_id" = ? and "kind" = 'TOKEN' order by "seq"`,
    [id],
  );
  const last = await endTurn(em, deps.log, {
    turn,
    prices: pricesOf(turn.model),
    answer: tokens.map((row) => row.delta ?? '').join(''),
    failure: {
      code: 'UPSTREAM_INTERRUPTED',
      message: 'the answer stopped: the server running it went away',
    },
    latencyMs: null,
    firstTokenLatencyMs: null,
    closeSession: false,
  });
  if (!last) return false;
  await publishEvent(deps, turn, last);
  return true;
}

/** Publishes an event outside a runner; a failure is logged (the event is stored, replay has it). */
function publishEvent(deps: TurnDeps, turn: Turn, event: ChatEventPayload): Promise<void> {
  return deps.pubsub
    .publish(chatTopic(turn.ownerId), event)
    .catch((error: unknown) => deps.log.error({ err: error, turnId: turn.id }, 'chat event not published'));
}
