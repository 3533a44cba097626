import { createHash } from 'node:crypto';
import {
  AppError,
  conflict,
  holdPayment,
  loadConfig,
  notFound,
  releasePayment,
  repeatEvery,
  safeText,
  voidPayment,
  type BackgroundDeps,
  type EntityManager,
  type Logger,
  type Peers,
  type Stoppable,
} from '../../../lib';
import { Agent, AgentStatus } from '../agent.entity';
import { callAgent, type AgentAnswer } from './agent.call';
import { Order, OrderSettlement, OrderStatus } from './order.entity';

/*
 * A paid order: the order row is stored first (PROCESSING, HELD), then the agent's price is held
 * from the buyer's USD credits (402 'Insufficient credits': the row is removed, nothing was held),
 * the agent is called, the outcome is stored, and the hold is released to the agent's owner less the
 * platform fee (COMPLETED) or voided (FAILED) — the same settlement as task rewards
 * (lib/held-payment.ts), with ledger ids prefixed by the order id. Orders always charge, whether
 * BILLING is on or off: they are paid work, not metering. A process stopped anywhere in between
 * leaves an order PROCESSING or HELD, which the reconciler settles.
 */

const CREDITS = 'USD';

/** An agent by its id or its ticker (any case). */
export async function agentByIdOrTicker(em: EntityManager, key: string): Promise<Agent> {
  const agent =
    (await em.findOne(Agent, { id: key })) ?? (await em.findOne(Agent, { ticker: key.trim().toUpperCase() }));
  if (!agent) throw notFound('Agent', key);
  return agent;
}

/** An agent that takes calls now: PAUSED ones are refused (409). */
export function refusePaused(agent: Agent): void {
  if (agent.status !== AgentStatus.ACTIVE) throw conflict(`agent ${agent.ticker} is paused`);
}

const paymentOf = (order: Pick<Order, 'id' | 'priceMinor' | 'asset'>) => ({
  prefix: order.id,
  amountMinor: BigInt(order.priceMinor),
  asset: order.asset,
  memo: `order ${order.id}`,
});

/**
 * The text of an agent's answer: a JSON object's `output_text`, `output`, `result`, `response` or
 * `text` string (the envelopes AUTX's example agents answer with), else the body as UTF-8. An
 * agent is an outside party: NUL and lone surrogates (which PostgreSQL's text refuses) become U+FFFD.
 */
export function outputTextOf(answer: AgentAnswer): string {
  return safeText(rawOutputTextOf(answer));
}

function rawOutputTextOf(answer: AgentAnswer): string {
  const text = answer.body.toString('utf8');
  if (/json/i.test(answer.contentType ?? '')) {
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const name of ['output_text', 'output', 'result', 'response', 'text']) {
          const field = (value as Record<string, unknown>)[name];
          if (typeof field === 'string') return field;
        }
      }
    } catch {
      // not JSON after all: the body as sent
    }
  }
  return text;
}

interface Outcome {
  status: OrderStatus.COMPLETED | OrderStatus.FAILED;
  outputText?: string;
  outputHash?: string;
  error?: string;
  latencyMs?: number;
}

/**
 * Stores an order's outcome once (only from PROCESSING). A free order (nothing held) counts toward
 * its agent's requests in the same statement; a paid one counts when its payment is released.
 */
async function finish(em: EntityManager, order: Order, outcome: Outcome): Promise<boolean> {
  const counted = outcome.status === OrderStatus.COMPLETED && order.settlement === OrderSettlement.NONE;
  const rows = await em.execute<{ completed_at: Date }[]>(
    `with "done" as (
       update "agents"."order" set "status" = ?, "output_text" = ?, "output_hash" = ?, "error" = ?,
         "latency_ms" = ?, "completed_at" = now(), "updated_at" = now()
       where "id" = ? and "status" = 'PROCESSING' returning "agent_id", "completed_at"),
     "counted" as (
       update "agents"."agent" set "total_requests" = "total_requests" + 1
       from "done" where "agent"."id" = "done"."agent_id" and ?)
     select "completed_at" from "done"`,
    [
      outcome.status,
      outcome.outputText ?? null,
      outcome.outputHash ?? null,
      outcome.error ?? null,
      outcome.latencyMs ?? null,
      order.id,
      counted,
    ],
  );
  if (!rows.length) return false;
  Object.assign(order, { ...outcome, completedAt: new Date(rows[0]!.completed_at) });
  return true;
}

/**
 * Settles an order that answered (COMPLETED or FAILED) whose price is still HELD: released to the
 * agent's owner (an agent since deleted: refunded) or voided, then marked so with one conditional
 * UPDATE that, for a release, adds the order to the agent's total_requests and total_revenue.
 * Answers the settlement, or null when there was nothing to settle. A failure leaves it HELD.
 */
export async function settleOrder(
  deps: { em: EntityManager; peers: Peers },
  order: Order,
): Promise<OrderSettlement | null> {
  if (order.settlement !== OrderSettlement.HELD || order.status === OrderStatus.PROCESSING) return null;
  const agent =
    order.status === OrderStatus.COMPLETED ? await deps.em.findOne(Agent, { id: order.agentId }) : null;
  const moved = agent ? await releasePayment(deps.peers, agent.ownerId, paymentOf(order)) : null;
  // A hold the wallet never made (a stop before it) is as good as voided.
  if (!moved) await voidPayment(deps.peers, order.id, true);
  const settlement = moved ? OrderSettlement.RELEASED : OrderSettlement.REFUNDED;
  const amounts = { amountPaidMinor: moved?.postedMinor ?? 0n, platformFeeMinor: moved?.feeMinor ?? 0n };
  // Through the EntityManager, so the reconciler's transaction (which holds the row's lock) runs it.
  await deps.em.execute(
    `with "settled" as (
       update "agents"."order" set "settlement" = ?, "amount_paid_minor" = ?, "platform_fee_minor" = ?,
         "updated_at" = now()
       where "id" = ? and "settlement" = 'HELD' returning "agent_id", "price_minor")
     update "agents"."agent" set "total_requests" = "total_requests" + 1,
       "total_revenue_minor" = "total_revenue_minor" + "settled"."price_minor"
     from "settled" where "agent"."id" = "settled"."agent_id" and ?`,
    [
      settlement,
      amounts.amountPaidMinor.toString(),
      amounts.platformFeeMinor.toString(),
      order.id,
      settlement === OrderSettlement.RELEASED,
    ],
  );
  Object.assign(order, { settlement, ...amounts });
  return settlement;
}

const sha256 = (body: Buffer) => `sha256:${createHash('sha256').update(body).digest('hex')}`;

/** A file sent with an order, as the agent receives it. */
export interface AgentFile {
  name: string;
  content_type: string;
  data_base64: string;
}

export interface PlaceOrder {
  buyerId: string;
  agentKey: string;
  prompt: string;
  paymentMethod: string;
  files?: AgentFile[];
}

/** Places, runs and settles one order; answers it COMPLETED or FAILED (an agent failure is no error). */
export async function placeOrder(
  deps: { em: EntityManager; peers: Peers; log: Logger; requestId: string },
  { buyerId, agentKey, prompt, paymentMethod, files = [] }: PlaceOrder,
): Promise<Order> {
  const { em, peers, log } = deps;
  const agent = await agentByIdOrTicker(em, agentKey);
  refusePaused(agent);
  if (agent.asset !== CREDITS)
    throw new AppError(
      'BAD_USER_INPUT',
      `agent ${agent.ticker} is priced in ${agent.asset}, not USD credits`,
    );
  const paid = BigInt(agent.priceMinor) > 0n;
  const order = em.create(Order, {
    buyerId,
    agentId: agent.id,
    prompt,
    paymentMethod,
    priceMinor: agent.priceMinor,
    asset: agent.asset,
    settlement: paid ? OrderSettlement.HELD : OrderSettlement.NONE,
  });
  await em.flush();
  if (paid) {
    try {
      await holdPayment(peers, buyerId, paymentOf(order));
    } catch (error) {
      if (error instanceof AppError && error.extensions.code === 'PAYMENT_REQUIRED') {
        await em.execute(`delete from "agents"."order" where "id" = ?`, [order.id]);
        throw error;
      }
      // The hold may or may not have been made: the order fails and the reconciler voids it.
      await finish(em, order, { status: OrderStatus.FAILED, error: 'the payment could not be held' });
      throw error;
    }
  }
  let outcome: Outcome;
  try {
    const request = files.length ? { prompt, files } : { prompt };
    const answer = await callAgent(agent, Buffer.from(JSON.stringify(request)), {
      'content-type': 'application/json',
      accept: '*/*',
      'x-autx-request-id': deps.requestId,
    });
    outcome =
      answer.status >= 200 && answer.status < 300
        ? {
            status: OrderStatus.COMPLETED,
            outputText: outputTextOf(answer),
            outputHash: sha256(answer.body),
            latencyMs: answer.latencyMs,
          }
        : {
            status: OrderStatus.FAILED,
            error: `the agent answered HTTP ${answer.status}`,
            latencyMs: answer.latencyMs,
          };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    outcome = { status: OrderStatus.FAILED, error: error.message };
  }
  await finish(em, order, outcome);
  try {
    await settleOrder({ em, peers }, order);
  } catch (error) {
    log.error({ err: error, orderId: order.id }, 'order not settled; the reconciler retries');
  }
  return order;
}

const RECONCILE_BATCH = 20;

/**
 * Repairs what a stopped process left: orders still PROCESSING longer than an agent call may take
 * fail (their hold, if any, is voided), and answered orders still HELD are settled — claimed with
 * FOR UPDATE SKIP LOCKED, so replicas share the work. Answers how many orders it settled.
 */
export async function reconcileOrders(
  deps: { em: EntityManager; peers: Peers; log: Logger },
  graceMs: number,
): Promise<number> {
  const connection = deps.em.getConnection();
  await connection.execute(
    // "updated_at" stays, so the same pass settles them below.
    `update "agents"."order" set "status" = 'FAILED', "error" = 'interrupted before the agent answered',
       "completed_at" = now()
     where "status" = 'PROCESSING' and "updated_at" <= ?`,
    [new Date(Date.now() - graceMs - loadConfig().AGENT_CALL_TIMEOUT_MS)],
  );
  return deps.em.fork().transactional(async (em) => {
    const rows = await em.execute<{ id: string }[]>(
      `select "id" from "agents"."order"
        where "settlement" = 'HELD' and "status" <> 'PROCESSING' and "updated_at" <= ?
        order by "updated_at" limit ? for update skip locked`,
      [new Date(Date.now() - graceMs), RECONCILE_BATCH],
    );
    let settled = 0;
    for (const { id } of rows) {
      const order = await em.findOneOrFail(Order, { id });
      try {
        if (await settleOrder({ em, peers: deps.peers }, order)) settled++;
      } catch (error) {
        deps.log.warn({ err: error, orderId: id }, 'order not settled; retried on the next pass');
      }
    }
    return settled;
  });
}

/** The agents subgraph's order reconciler: every BILLING_RECONCILE_SECONDS on every replica. */
export function startOrderReconciler({ orm, peers, log }: BackgroundDeps): Stoppable {
  const intervalMs = loadConfig().BILLING_RECONCILE_SECONDS * 1000;
  return repeatEvery(intervalMs, log, 'order reconciliation failed', () =>
    reconcileOrders({ em: orm.em.fork() as unknown as EntityManager, peers, log }, intervalMs),
  );
}
