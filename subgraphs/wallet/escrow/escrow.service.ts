import {
  AppError,
  badInput,
  conflict,
  gazeVerified,
  newId,
  notFound,
  type EntityManager,
  type Identity,
  type SubgraphContext,
} from '../../../lib';
import { Escrow, EscrowStatus } from './escrow.entity';
import { applyTransfersIn, type TransferRequest, type TransferResult } from '../ledger/ledger.engine';
import { publishBalanceChanges } from '../ledger/ledger.events';
import { assetDecimals, ledgerAccountId } from '../ledger/ledger.accounts';
import { TransferKind } from '../ledger/transfer.entity';
import { checkAmount } from '../ledger/transfer.input';

/** 000/001's bounds on an escrow's time to live: one minute to one week. */
export const MIN_ESCROW_TTL_SECONDS = 60;
export const MAX_ESCROW_TTL_SECONDS = 7 * 24 * 60 * 60;

export interface LockEscrowRequest {
  taskId: string;
  recipientId: string;
  asset: string;
  amountMinor: bigint;
  gazeRequired: boolean;
  ttlSeconds: number;
}

/** What a client sees: a LOCKED escrow past its expiry is EXPIRED, whether or not it was swept yet. */
export const escrowStatus = (escrow: Escrow, now = new Date()) =>
  escrow.status === EscrowStatus.LOCKED && escrow.expiresAt <= now ? EscrowStatus.EXPIRED : escrow.status;

function checkTtl(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < MIN_ESCROW_TTL_SECONDS || seconds > MAX_ESCROW_TTL_SECONDS)
    throw badInput(`ttlSeconds must be ${MIN_ESCROW_TTL_SECONDS} to ${MAX_ESCROW_TTL_SECONDS}`, {
      field: 'ttlSeconds',
    });
  return seconds;
}

/**
 * Locks `amountMinor` of the caller's `asset` for a task of theirs, payable to `recipientId` (an
 * account). The hold and the escrow row are written in one transaction; the hold's timeout is the
 * TTL, so the ledger's sweeper returns the money of an escrow nobody resolves.
 */
export async function lockEscrow(ctx: SubgraphContext, request: LockEscrowRequest): Promise<Escrow> {
  const payerId = ctx.me().accountId;
  const ttlSeconds = checkTtl(request.ttlSeconds);
  const amount = checkAmount(request.amountMinor);
  const decimals = await assetDecimals(ctx.em, request.asset);
  // The task must be the caller's (tasks show their creator alone); the recipient any account.
  await ctx.references.require('Task', request.taskId, 'taskId');
  await ctx.references.require('Account', request.recipientId, 'recipientId');
  if (request.recipientId === payerId)
    throw badInput('recipientId must be another account than yours', { field: 'recipientId' });
  const [debitAccountId, creditAccountId] = await Promise.all([
    ledgerAccountId(ctx.em, payerId, request.asset),
    ledgerAccountId(ctx.em, request.recipientId, request.asset),
  ]);
  const id = newId('esc');
  const [entries, escrow] = await ctx.em.fork().transactional(async (em) => {
    const [result] = await applyTransfersIn(em, [
      {
        id: `${id}.hold`,
        kind: TransferKind.PENDING,
        debitAccountId,
        creditAccountId,
        amount,
        timeoutSeconds: ttlSeconds,
        memo: `escrow ${id} for task ${request.taskId}`,
      },
    ]);
    if (result instanceof AppError) throw result;
    const row = em.create(Escrow, {
      id,
      taskId: request.taskId,
      payerId,
      recipientId: request.recipientId,
      asset: request.asset,
      decimals,
      amountMinor: amount,
      status: EscrowStatus.LOCKED,
      gazeRequired: request.gazeRequired,
      ttlSeconds,
      holdId: result.transfer.id,
      expiresAt: result.transfer.timeoutAt!,
      createdAt: result.transfer.createdAt,
    });
    await em.flush();
    return [result.entries, row] as const;
  });
  await publishBalanceChanges(ctx, entries);
  return escrow;
}

type Settle = (em: EntityManager, escrow: Escrow, expired: boolean) => Promise<SettleOutcome>;
type SettleOutcome =
  { status: EscrowStatus; results: TransferResult[] } | { refusal: AppError; status?: EscrowStatus };

/** One ledger step inside the escrow's transaction: its result, or the refusal the ledger answered. */
async function ledgerStep(em: EntityManager, request: TransferRequest): Promise<TransferResult | AppError> {
  const [result] = await applyTransfersIn(em, [request]);
  return result;
}

/**
 * Runs `settle` under the escrow's row lock, so release and refund of one escrow go one at a time;
 * the ledger resolves its hold once, so the sweeper's expiry cannot also pay it. The status the
 * outcome names is stored in the same transaction as the ledger step; balance changes are
 * published after commit. A refusal may still store a status (a release that found it expired).
 */
async function underEscrowLock(
  ctx: SubgraphContext,
  id: string,
  may: (escrow: Escrow, me: Identity) => AppError | null,
  settle: Settle,
): Promise<Escrow> {
  const me = ctx.me();
  const outcome = await ctx.em.fork().transactional(async (em) => {
    // now() is the transaction's clock, the one the ledger judges the hold's timeout by.
    const [locked] = await em.execute<{ expired: boolean }[]>(
      'select "expires_at" <= now() as "expired" from "wallet"."escrow" where "id" = ? for update',
      [id],
    );
    const escrow = locked ? await em.findOne(Escrow, { id }) : null;
    if (
      !escrow ||
      (me.role !== 'ADMIN' && !(escrow.payerId === me.accountId || escrow.recipientId === me.accountId))
    )
      return { refusal: notFound('Escrow', id) };
    const forbidden = may(escrow, me);
    if (forbidden) return { refusal: forbidden };
    const settled = await settle(em, escrow, locked.expired);
    if (settled.status) {
      escrow.status = settled.status;
      escrow.settledAt = new Date();
      await em.flush();
    }
    return { ...settled, escrow };
  });
  if ('refusal' in outcome) throw outcome.refusal;
  for (const result of outcome.results) if (result.created) await publishBalanceChanges(ctx, result.entries);
  return outcome.escrow;
}

const alreadySettled = (escrow: Escrow) =>
  conflict(`escrow ${escrow.id} is ${escrow.status.toLowerCase()}, not locked`, { status: escrow.status });
const expiredRefusal = (escrow: Escrow) =>
  new AppError('GONE', `escrow ${escrow.id} expired at ${escrow.expiresAt.toISOString()}`, {
    status: EscrowStatus.EXPIRED,
  });

/**
 * Pays a LOCKED escrow to its recipient (posts the hold): the payer or an admin, and for a
 * gaze-required escrow only with a verified attestation. CONFLICT once released or refunded, GONE
 * once expired (then it is marked EXPIRED), FORBIDDEN without the attestation.
 */
export function releaseEscrow(
  ctx: SubgraphContext,
  id: string,
  attestationId: string | null,
): Promise<Escrow> {
  return underEscrowLock(
    ctx,
    id,
    (escrow, me) =>
      me.role === 'ADMIN' || escrow.payerId === me.accountId
        ? null
        : new AppError('FORBIDDEN', 'only the payer releases an escrow'),
    async (em, escrow, expired) => {
      if (escrow.status === EscrowStatus.EXPIRED) return { refusal: expiredRefusal(escrow) };
      if (escrow.status !== EscrowStatus.LOCKED) return { refusal: alreadySettled(escrow) };
      if (expired) return { refusal: expiredRefusal(escrow), status: EscrowStatus.EXPIRED };
      if (escrow.gazeRequired && !(await gazeVerified(ctx, attestationId)))
        return {
          refusal: new AppError('FORBIDDEN', 'this escrow is released only with a verified gaze attestation'),
        };
      const posted = await ledgerStep(em, {
        id: `${escrow.id}.release`,
        kind: TransferKind.POST,
        pendingId: escrow.holdId,
      });
      // The sweeper expired the hold between our clock and its own: the escrow has expired.
      if (posted instanceof AppError)
        return { refusal: expiredRefusal(escrow), status: EscrowStatus.EXPIRED };
      return { status: EscrowStatus.RELEASED, results: [posted] };
    },
  );
}

/**
 * Returns a LOCKED or EXPIRED escrow's money to the payer (the payer, the recipient or an admin):
 * a locked hold is voided; an expired one is expired in the ledger now unless the sweeper already
 * did. CONFLICT once released or refunded.
 */
export function refundEscrow(ctx: SubgraphContext, id: string): Promise<Escrow> {
  return underEscrowLock(
    ctx,
    id,
    () => null,
    async (em, escrow, expired) => {
      if (escrow.status !== EscrowStatus.LOCKED && escrow.status !== EscrowStatus.EXPIRED)
        return { refusal: alreadySettled(escrow) };
      const step = await ledgerStep(em, {
        id: `${escrow.id}.${expired ? 'expire' : 'refund'}`,
        kind: expired ? TransferKind.EXPIRE : TransferKind.VOID,
        pendingId: escrow.holdId,
      });
      // Resolved already: by the sweeper's expiry, the only other way this hold ends.
      const results = step instanceof AppError ? [] : [step];
      if (step instanceof AppError && step.extensions.code !== 'CONFLICT') return { refusal: step };
      return { status: EscrowStatus.REFUNDED, results };
    },
  );
}
