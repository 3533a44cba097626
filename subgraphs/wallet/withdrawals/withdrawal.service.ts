import { viem } from '../deposits/evm';
import {
  AppError,
  badInput,
  newId,
  updateReturning,
  type BackgroundDeps,
  type Stoppable,
} from '../../../lib';
import { Deposit, DepositSource } from '../deposits/deposit.entity';
import { assetDecimals, ledgerAccountId, SystemAccountRole, systemOwnerId } from '../ledger/ledger.accounts';
import { applyTransfersIn } from '../ledger/ledger.engine';
import { publishBalanceChanges } from '../ledger/ledger.events';
import { postHold, voidHold, type LedgerDeps } from '../ledger/ledger.service';
import { paymentSettings } from '../payments.settings';
import { HttpPayoutRail, type PayoutOutcome, type PayoutRail } from './payout.rail';
import { TransferKind } from '../ledger/transfer.entity';
import { checkAmount } from '../ledger/transfer.input';
import { Withdrawal, WithdrawalStatus } from './withdrawal.entity';

/** What each withdrawable asset leaves the platform as, and how its destination is written. */
const PAYOUTS: Record<string, { paidAs: string; destination: (address: string) => boolean }> = {
  USD: { paidAs: 'USDC', destination: (address) => viem().isAddress(address, { strict: false }) },
  SOL: { paidAs: 'SOL', destination: (address) => /^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(address) },
};

/** 003: credits withdrawals have "1hr cooldown" per account; 004 documents none for SOL. */
const COOLDOWN_SECONDS: Record<string, number> = { USD: 3600 };

/** A payout still unconfirmed this long after it was last asked about is asked again. */
const RECONCILE_AFTER_SECONDS = 30;
const RECONCILE_EVERY_MS = 15_000;
const RECONCILE_BATCH = 20;

export interface WithdrawalRequest {
  asset: string;
  amountMinor: bigint;
  /** Where to pay; for USD credits, by default the address of your latest on-chain deposit. */
  destination?: string | null;
}

function payoutRail(): PayoutRail {
  const settings = paymentSettings();
  if (!settings.PAYOUT_URL)
    throw new AppError(
      'UPSTREAM_UNAVAILABLE',
      'withdrawals are unavailable: no payout service is configured',
    );
  return new HttpPayoutRail(settings.PAYOUT_URL, settings.PAYOUT_TIMEOUT_MS);
}

async function destinationOf(deps: LedgerDeps, ownerId: string, input: WithdrawalRequest): Promise<string> {
  const payout = PAYOUTS[input.asset];
  let destination = input.destination ?? undefined;
  if (destination === undefined && input.asset === 'USD') {
    const [latest] = await deps.em.find(
      Deposit,
      { ownerId, source: DepositSource.ONCHAIN },
      { orderBy: { id: 'desc' }, limit: 1 },
    );
    destination = latest?.fromAddress ?? undefined;
    if (!destination)
      throw badInput('destination is required: there is no on-chain deposit to pay back to', {
        field: 'destination',
      });
  }
  if (typeof destination !== 'string' || !payout.destination(destination))
    throw badInput(`destination must be a ${payout.paidAs === 'SOL' ? 'Solana' : 'EVM'} address`, {
      field: 'destination',
    });
  return destination;
}

/** Refuses a withdrawal within the asset's cooldown of the last one that was not refunded. */
async function checkCooldown(deps: LedgerDeps, ownerId: string, asset: string, now: Date): Promise<void> {
  const seconds = COOLDOWN_SECONDS[asset];
  if (!seconds) return;
  const [last] = await deps.em.find(
    Withdrawal,
    { ownerId, asset, status: { $ne: WithdrawalStatus.FAILED } },
    { orderBy: { createdAt: 'desc' }, limit: 1, fields: ['createdAt'] },
  );
  if (!last) return;
  const retryAt = new Date(last.createdAt.getTime() + seconds * 1000);
  if (retryAt <= now) return;
  const retryAfterSeconds = Math.ceil((retryAt.getTime() - now.getTime()) / 1000);
  throw new AppError(
    'RATE_LIMITED',
    `one withdrawal per hour: retry after ${retryAt.toISOString()} (in ${retryAfterSeconds} s)`,
    { retryAfterSeconds, retryAt: retryAt.toISOString() },
  );
}

/**
 * Holds the amount (a PENDING transfer to payouts clearing) and records the withdrawal, in one
 * database transaction under a per-account lock, so two requests cannot both pass the cooldown.
 */
async function holdWithdrawal(
  deps: LedgerDeps,
  ownerId: string,
  input: WithdrawalRequest,
  destination: string,
): Promise<Withdrawal> {
  const [debitAccountId, creditAccountId] = await Promise.all([
    ledgerAccountId(deps.em, ownerId, input.asset),
    ledgerAccountId(deps.em, systemOwnerId(SystemAccountRole.PAYOUTS_CLEARING), input.asset),
  ]);
  const id = newId('wdr');
  const [entries, withdrawal] = await deps.em.transactional(async (em) => {
    await em.execute('select pg_advisory_xact_lock(hashtext(?))', [`withdrawal ${ownerId} ${input.asset}`]);
    const now = new Date();
    await checkCooldown({ ...deps, em }, ownerId, input.asset, now);
    const [result] = await applyTransfersIn(em, [
      {
        id: `${id}.hold`,
        kind: TransferKind.PENDING,
        debitAccountId,
        creditAccountId,
        amount: input.amountMinor,
        memo: `withdrawal ${id}`,
      },
    ]);
    if (result instanceof AppError) throw result;
    const row = em.create(Withdrawal, {
      id,
      ownerId,
      asset: input.asset,
      amountMinor: input.amountMinor,
      destination,
      status: WithdrawalStatus.PENDING,
      holdId: result.transfer.id,
      feeMinor: 0n,
      attempts: 1,
      createdAt: now,
      updatedAt: now,
    });
    await em.flush();
    return [result.entries, row] as const;
  });
  await publishBalanceChanges(deps, entries);
  return withdrawal;
}

/**
 * Applies what the payout service answered: paid → the hold is posted; failed → voided, the money
 * back. Each ledger step has its own id, so settling again (the reconciler) replays, never repeats.
 */
export async function settleWithdrawal(
  deps: LedgerDeps,
  withdrawal: Withdrawal,
  outcome: PayoutOutcome,
): Promise<Withdrawal> {
  const where = { id: withdrawal.id, status: WithdrawalStatus.PENDING };
  const now = new Date();
  if (outcome.status === 'completed') {
    await postHold(deps, { id: `${withdrawal.id}.post`, pendingId: withdrawal.holdId });
    await updateReturning(deps.em, Withdrawal, where, {
      status: WithdrawalStatus.COMPLETED,
      tx: outcome.tx,
      feeMinor: outcome.feeMinor,
      completedAt: now,
      updatedAt: now,
    });
  } else if (outcome.status === 'failed') {
    await voidHold(deps, { id: `${withdrawal.id}.void`, pendingId: withdrawal.holdId });
    await updateReturning(deps.em, Withdrawal, where, {
      status: WithdrawalStatus.FAILED,
      failureReason: outcome.reason,
      completedAt: now,
      updatedAt: now,
    });
  } else {
    deps.log.warn({ withdrawalId: withdrawal.id, reason: outcome.reason }, 'payout not confirmed yet');
  }
  return deps.em.findOneOrFail(Withdrawal, withdrawal.id, { refresh: true });
}

const sendPayout = async (rail: PayoutRail, em: LedgerDeps['em'], withdrawal: Withdrawal) =>
  rail.send({
    id: withdrawal.id,
    asset: PAYOUTS[withdrawal.asset].paidAs,
    amountMinor: withdrawal.amountMinor,
    decimals: await assetDecimals(em, withdrawal.asset),
    destination: withdrawal.destination,
  });

/** 003's `POST /credits/withdraw` and 004's `POST /payments/withdraw`: hold, pay out, settle. */
export async function requestWithdrawal(
  deps: LedgerDeps,
  ownerId: string,
  input: WithdrawalRequest,
): Promise<Withdrawal> {
  if (!Object.hasOwn(PAYOUTS, input.asset))
    throw badInput(`only ${Object.keys(PAYOUTS).join(' and ')} can be withdrawn`, { field: 'asset' });
  const amountMinor = checkAmount(input.amountMinor);
  const rail = payoutRail();
  const destination = await destinationOf(deps, ownerId, input);
  const withdrawal = await holdWithdrawal(deps, ownerId, { ...input, amountMinor }, destination);
  return settleWithdrawal(deps, withdrawal, await sendPayout(rail, deps.em, withdrawal));
}

/** Asks the payout service again about withdrawals it left unconfirmed (or that a crash left). */
export async function reconcileWithdrawals(deps: LedgerDeps): Promise<number> {
  const settings = paymentSettings();
  if (!settings.PAYOUT_URL) return 0;
  const rail = new HttpPayoutRail(settings.PAYOUT_URL, settings.PAYOUT_TIMEOUT_MS);
  // Claimed by moving updated_at forward: another replica's pass skips what this one took.
  const claimed = await deps.em.execute<{ id: string }[]>(
    `update "wallet"."withdrawal" set "updated_at" = now(), "attempts" = "attempts" + 1
     where "id" in (select "id" from "wallet"."withdrawal"
                    where "status" = 'PENDING' and "updated_at" < now() - make_interval(secs => ?)
                    order by "updated_at" limit ? for update skip locked)
     returning "id"`,
    [RECONCILE_AFTER_SECONDS, RECONCILE_BATCH],
  );
  for (const { id } of claimed) {
    try {
      const withdrawal = await deps.em.findOneOrFail(Withdrawal, id, { refresh: true });
      await settleWithdrawal(deps, withdrawal, await sendPayout(rail, deps.em, withdrawal));
    } catch (error) {
      deps.log.error({ err: error, withdrawalId: id }, 'withdrawal not reconciled');
    }
  }
  return claimed.length;
}

export function startWithdrawalReconciler({ orm, pubsub, log }: BackgroundDeps): Stoppable {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = reconcileWithdrawals({ em: orm.em.fork() as unknown as LedgerDeps['em'], pubsub, log }).catch(
      (error: unknown) => log.error({ err: error }, 'withdrawal reconciliation failed'),
    );
  }, RECONCILE_EVERY_MS);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
