import {
  AppError,
  loadConfig,
  voidOrphanHolds,
  type EntityManager,
  type Logger,
  type Peers,
} from '../../lib';
import { TurnSettlement } from './chat.entities';
import { priceOf, type PriceTable } from './chat.pricing';

/**
 * Paying for turns from the caller's USD credits (README "Billing"). Before a turn goes upstream
 * the wallet holds the most it may cost; once it ends its price is posted from that hold (the rest
 * goes back) or, when it failed or was cancelled, the whole hold is voided. Every movement's
 * transfer id derives from the turn id, so a retry of any step is answered with the first result,
 * and the reconciler here finishes what a stopped process left between two steps.
 */

/** Credits are micro-USD: the wallet's USD asset has 6 decimals. */
const CREDITS_ASSET = 'USD';
/** Chat templates add a few tokens per message (role markers, separators); 4 is OpenAI's figure. */
const TEMPLATE_TOKENS_PER_MESSAGE = 4;
const TEMPLATE_TOKENS_PER_ANSWER = 3;
const codeOf = (error: unknown) => (error instanceof AppError ? error.extensions.code : undefined);

/** Held turns one reconciler statement claims; their row locks are kept while the wallet answers. */
const RECONCILE_BATCH = 20;

export interface BillingSettings {
  enabled: boolean;
  /** The wallet expires a hold nobody resolved after this long (a turn stored never, say). */
  holdTimeoutSeconds: number;
  /** How often the reconciler runs, and how long it leaves a just-ended turn to its own runner. */
  reconcileMs: number;
}

let settings: BillingSettings | undefined;

/** Read from the environment at first use, like the chat settings. */
export function billingSettings(): BillingSettings {
  if (settings) return settings;
  const config = loadConfig();
  settings = {
    enabled: config.BILLING === 'on',
    holdTimeoutSeconds: config.BILLING_HOLD_TIMEOUT_SECONDS,
    reconcileMs: config.BILLING_RECONCILE_SECONDS * 1000,
  };
  return settings;
}

/**
 * The most a turn may cost. Prompt tokens are bounded by the context's UTF-8 bytes (a byte-level
 * tokenizer never makes a token of less than one byte) plus the template's tokens; the completion
 * by its max tokens, which the upstream is told.
 */
export function holdBound(
  prices: PriceTable,
  context: { content: string }[],
  maxCompletionTokens: number,
): bigint {
  const promptTokens =
    context.reduce((sum, message) => sum + Buffer.byteLength(message.content, 'utf8'), 0) +
    TEMPLATE_TOKENS_PER_MESSAGE * context.length +
    TEMPLATE_TOKENS_PER_ANSWER;
  return priceOf({ promptTokens, completionTokens: maxCompletionTokens, estimated: true }, prices);
}

/** What a turn holds, stored on it with the turn. */
export interface TurnHold {
  settlement: TurnSettlement.HELD;
  holdId: string;
  heldMicroUsd: bigint;
}

const HOLD = `mutation TurnHold($input: LedgerHoldInput!) { ledgerHold(input: $input) { id } }`;
const POST = `mutation TurnPost($input: LedgerResolveInput!) { ledgerPost(input: $input) { id } }`;
const VOID = `mutation TurnVoid($input: LedgerResolveInput!) { ledgerVoid(input: $input) { id } }`;

/** A turn's id (newId('turn')), which is also its hold's transfer id. */
const TURN_ID = /^turn_[0-9a-z]{26}$/;

/**
 * The transfer ids of one turn's (or relay call's) hold and its resolution: its id is the
 * idempotency key.
 */
const holdIdOf = (turnId: string) => turnId;
const postIdOf = (turnId: string) => `${turnId}.post`;
const voidIdOf = (turnId: string) => `${turnId}.void`;

/**
 * Holds `amount` of the owner's credits for a turn, paid to platform revenue when posted. Too few
 * credits is PAYMENT_REQUIRED ("Insufficient credits", as AUTX words it).
 */
export async function holdCredits(
  peers: Peers,
  hold: { turnId: string; ownerId: string; amount: bigint; timeoutSeconds: number },
  label = 'chat turn',
): Promise<TurnHold> {
  const holdId = holdIdOf(hold.turnId);
  try {
    await peers.request('wallet', HOLD, {
      input: {
        id: holdId,
        from: { accountId: hold.ownerId },
        to: { system: 'PLATFORM_REVENUE' },
        asset: CREDITS_ASSET,
        amountMinor: hold.amount.toString(),
        timeoutSeconds: hold.timeoutSeconds,
        memo: `${label} ${hold.turnId}`,
      },
    });
  } catch (error) {
    if (codeOf(error) === 'PAYMENT_REQUIRED')
      throw new AppError('PAYMENT_REQUIRED', 'Insufficient credits', {
        requiredMicroUsd: hold.amount.toString(),
        asset: CREDITS_ASSET,
      });
    throw error;
  }
  return { settlement: TurnSettlement.HELD, holdId, heldMicroUsd: hold.amount };
}

/** Gives a whole hold back; a turn that was never stored, or that failed or was cancelled. */
export async function voidCredits(peers: Peers, turnId: string, label = 'chat turn'): Promise<void> {
  await peers.request('wallet', VOID, {
    input: { id: voidIdOf(turnId), pendingId: holdIdOf(turnId), memo: `${label} ${turnId} not charged` },
  });
}

/** Posts `charged` (at least one micro-USD) of a turn's hold; the rest goes back. */
export async function postCredits(
  peers: Peers,
  turnId: string,
  charged: bigint,
  label = 'chat turn',
): Promise<void> {
  await peers.request('wallet', POST, {
    input: {
      id: postIdOf(turnId),
      pendingId: holdIdOf(turnId),
      amountMinor: charged.toString(),
      memo: `${label} ${turnId}`,
    },
  });
}

export interface SettleDeps {
  em: EntityManager;
  peers: Peers;
  log: Logger;
}

interface HeldTurn {
  id: string;
  charged_micro_usd: string | null;
}

/**
 * Claims ended, held turns no one else is settling: one turn by id (its runner, at once), or those
 * that ended more than `olderThanMs` ago (the reconciler, leaving fresh ones to their runners).
 */
const claimHeld = (em: EntityManager, which: { turnId: string } | { olderThanMs: number }) =>
  em.execute<HeldTurn[]>(
    `select "id", "charged_micro_usd" from "sessions"."turn"
      where "settlement" = 'HELD' and "status" <> 'RUNNING'
        and ${'turnId' in which ? `"id" = ?` : `"finished_at" <= now() - make_interval(secs => ?)`}
      order by "finished_at", "id"
      limit ${RECONCILE_BATCH}
      for update skip locked`,
    ['turnId' in which ? which.turnId : which.olderThanMs / 1000],
  );

/**
 * Sends the resolution recorded when the turn ended (its charge, or nothing) and stores the
 * outcome. A hold that ended otherwise (expired) is LAPSED; a wallet that does not answer leaves
 * the turn HELD for the next reconciler run.
 */
async function settleClaimed(deps: SettleDeps, em: EntityManager, turn: HeldTurn): Promise<void> {
  const charged = BigInt(turn.charged_micro_usd ?? '0');
  let settlement: TurnSettlement;
  try {
    if (charged > 0n) await postCredits(deps.peers, turn.id, charged);
    else await voidCredits(deps.peers, turn.id);
    settlement = charged > 0n ? TurnSettlement.POSTED : TurnSettlement.VOIDED;
  } catch (error) {
    // The wallet says the hold is gone (expired, or never made): nothing is left to resolve.
    if (codeOf(error) !== 'CONFLICT' && codeOf(error) !== 'NOT_FOUND') throw error;
    deps.log.warn({ err: error, turnId: turn.id }, 'turn hold ended in the wallet without this turn');
    settlement = TurnSettlement.LAPSED;
  }
  await em.execute(`update "sessions"."turn" set "settlement" = ?, "settled_at" = now() where "id" = ?`, [
    settlement,
    turn.id,
  ]);
}

/**
 * Settles one turn that just ended, unless another process (the reconciler) is at it already.
 * Never throws: a failure is logged and left to the reconciler.
 */
export async function settleTurn(deps: SettleDeps, turnId: string): Promise<void> {
  try {
    await deps.em.fork().transactional(async (tx) => {
      const [turn] = await claimHeld(tx, { turnId });
      if (turn) await settleClaimed(deps, tx, turn);
    });
  } catch (error) {
    deps.log.error({ err: error, turnId }, 'turn not settled; the reconciler will retry');
  }
}

/**
 * Finishes settlements that a stopped process left undone: each turn that ended with its hold still
 * open gets the post or void its end recorded, and a hold whose turn was never stored (the process
 * stopped between the hold and the insert) is voided once older than `graceMs`. Rows are claimed
 * with SKIP LOCKED, so replicas running this at once share the work instead of repeating it.
 * Returns how many holds were settled or voided.
 */
export async function reconcileSettlements(deps: SettleDeps, graceMs: number): Promise<number> {
  // A wallet that cannot list holds now must not keep the stored turns below from settling.
  let settled = await voidOrphanHolds(deps, {
    prefix: 'turn_',
    graceMs,
    recordOf: (holdId) => (TURN_ID.test(holdId) ? holdId : null),
    table: '"sessions"."turn"',
    voidHold: (turnId) => voidCredits(deps.peers, turnId),
  }).catch((error: unknown) => {
    deps.log.error({ err: error }, 'orphan turn holds not listed; retried next run');
    return 0;
  });
  for (;;) {
    let claimed = 0;
    let settledNow = 0;
    await deps.em.fork().transactional(async (tx) => {
      const turns = await claimHeld(tx, { olderThanMs: graceMs });
      claimed = turns.length;
      for (const turn of turns) {
        // One the wallet cannot settle now stays HELD for the next run; the rest go on.
        try {
          await settleClaimed(deps, tx, turn);
          settledNow++;
        } catch (error) {
          deps.log.error({ err: error, turnId: turn.id }, 'turn settlement failed; retried next run');
        }
      }
    });
    settled += settledNow;
    // A full batch that settled nothing is one the wallet refuses now: the next run tries again.
    if (claimed < RECONCILE_BATCH || settledNow === 0) return settled;
  }
}
