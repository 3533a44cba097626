import { loadConfig } from './config';
import { AppError } from './errors';
import type { Peers } from './peers';

/*
 * Paid work settled through the wallet's service-only ledger mutations, shared by task rewards
 * (tasks subgraph) and paid orders (agents subgraph): the price is held from the payer into ESCROW;
 * on success the hold is posted and paid out of ESCROW to the payee less PLATFORM_FEE_BPS (the fee
 * to PLATFORM_REVENUE); otherwise it is voided back to the payer. Each step's ledger id derives from
 * one prefix (the task or order id), so a retry or a reconciler replays a step and never repeats it.
 */

export const LEDGER_HOLD = 'mutation ($input: LedgerHoldInput!) { ledgerHold(input: $input) { id } }';
export const LEDGER_POST = 'mutation ($input: LedgerResolveInput!) { ledgerPost(input: $input) { id } }';
export const LEDGER_VOID = 'mutation ($input: LedgerResolveInput!) { ledgerVoid(input: $input) { id } }';
const TRANSFER = 'mutation ($input: LedgerTransferInput!) { ledgerTransfer(input: $input) { id } }';

const codeOf = (error: unknown) => (error instanceof AppError ? error.extensions.code : undefined);

/** The ledger ids of one held payment: the hold, its post or void, and the two payments out of escrow. */
export const heldPaymentIds = (prefix: string) => ({
  hold: `${prefix}.hold`,
  release: `${prefix}.release`,
  refund: `${prefix}.refund`,
  payout: `${prefix}.payout`,
  fee: `${prefix}.fee`,
});

/** The platform's fee on a payment, rounded down (the payee keeps the odd minor unit). */
export const platformFee = (amountMinor: bigint) =>
  (amountMinor * BigInt(loadConfig().PLATFORM_FEE_BPS)) / 10_000n;

export interface HeldPayment {
  /** The task or order id every ledger id of the payment starts with. */
  prefix: string;
  amountMinor: bigint;
  asset: string;
  /** What the payment is for, e.g. "reward of task task_…" (the ledger memo). */
  memo: string;
}

/** Holds a payment from the payer's account into ESCROW: PAYMENT_REQUIRED 'Insufficient credits' when short. */
export async function holdPayment(peers: Peers, payerId: string, payment: HeldPayment): Promise<void> {
  try {
    await peers.request('wallet', LEDGER_HOLD, {
      input: {
        id: heldPaymentIds(payment.prefix).hold,
        from: { accountId: payerId },
        to: { system: 'ESCROW' },
        asset: payment.asset,
        amountMinor: payment.amountMinor.toString(),
        memo: payment.memo,
      },
    });
  } catch (error) {
    if (codeOf(error) === 'PAYMENT_REQUIRED')
      throw new AppError('PAYMENT_REQUIRED', 'Insufficient credits', {
        requiredMinor: payment.amountMinor.toString(),
        asset: payment.asset,
      });
    throw error;
  }
}

/**
 * Gives a hold back to its payer. With `missingIsVoid`, a hold the wallet never made (a process
 * stopped before it) counts as voided rather than NOT_FOUND.
 */
export async function voidPayment(peers: Peers, prefix: string, missingIsVoid = false): Promise<void> {
  const ids = heldPaymentIds(prefix);
  try {
    await peers.request('wallet', LEDGER_VOID, { input: { id: ids.refund, pendingId: ids.hold } });
  } catch (error) {
    if (!(missingIsVoid && codeOf(error) === 'NOT_FOUND')) throw error;
  }
}

/** Posts the hold and pays it out of ESCROW: the payee less the platform fee, the fee to PLATFORM_REVENUE. */
export async function releasePayment(peers: Peers, payeeId: string, payment: HeldPayment): Promise<void> {
  const ids = heldPaymentIds(payment.prefix);
  // A refreshed row may carry the amount as text; it is whole minor units either way.
  const amount = BigInt(payment.amountMinor);
  const fee = platformFee(amount);
  await peers.request('wallet', LEDGER_POST, { input: { id: ids.release, pendingId: ids.hold } });
  const pay = (id: string, to: object, value: bigint, memo: string) =>
    value > 0n
      ? peers.request('wallet', TRANSFER, {
          input: {
            id,
            from: { system: 'ESCROW' },
            to,
            asset: payment.asset,
            amountMinor: value.toString(),
            memo,
          },
        })
      : undefined;
  await pay(ids.payout, { accountId: payeeId }, amount - fee, payment.memo);
  await pay(ids.fee, { system: 'PLATFORM_REVENUE' }, fee, `platform fee on ${payment.memo}`);
}
