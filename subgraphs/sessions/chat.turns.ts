import { metrics, type EntityManager, type Logger, type Peers, type PubSub } from '../../lib';
import { settleTurn } from './chat.billing';
import { rememberTurn } from './chat.memory';
import { Turn } from './chat.entities';
import { ChatEventKind, chatTopic, lastSeq, type ChatEventPayload } from './chat.events';
import { endTurn } from './chat.end';
import { TurnOutlet } from './chat.outlet';
import type { PriceTable } from './chat.pricing';
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
