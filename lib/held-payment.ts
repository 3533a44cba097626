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
export const LEDGER_POST =
  'mutation ($input: LedgerResolveInput!) { ledgerPost(input: $input) { id amountMinor } }';
export const LEDGER_VOID = 'mutation ($input: LedgerResolveInput!) { ledgerVoid(input: $input) { id } }';
const TRANSFER =
  'mutation ($input: LedgerTransferInput!) { ledgerTransfer(input: $input) { id amountMinor } }';

const codeOf = (error: unknown) => (error instanceof AppError ? error.extensions.code : undefined);

/** The ledger ids of one held payment: the hold, its post or void, and the two payments out of escrow. */
export const heldPaymentIds = (prefix: string) => ({
  hold: `${prefix}.hold`,
  release: `${prefix}.release`,
  refund: `${prefix}.refund`,
  payout: `${prefix}.payout`,
  fee: `${prefix}.fee`,
  /** A split's part that goes back to the payer out of ESCROW. */
  giveBack: `${prefix}.return`,
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

/** What a settled payment moved, as the wallet's transfers answered it (minor units). */
export interface SettledPayment {
  /** The hold posted: what the payer was charged. */
  postedMinor: bigint;
  /** Paid to the payee (its share less the fee). */
  payoutMinor: bigint;
  /** Kept by the platform (PLATFORM_REVENUE). */
  feeMinor: bigint;
  /** Given back to the payer out of ESCROW (a split's rest). */
  returnedMinor: bigint;
}

/** A split settlement: the payee's part of the payment; the rest goes back to the payer. */
export interface PaymentSplit {
  payerId: string;
  payeeShareMinor: bigint;
}

/**
 * Posts the hold and pays it out of ESCROW: the payee its share less the platform fee, the fee to
 * PLATFORM_REVENUE, and (for a split) the rest back to the payer. The share is the whole payment
 * unless `split` names a part. Each leg is its own idempotent transfer; a leg of zero is skipped.
 */
export async function releasePayment(
  peers: Peers,
  payeeId: string,
  payment: HeldPayment,
  split?: PaymentSplit,
): Promise<SettledPayment> {
  const ids = heldPaymentIds(payment.prefix);
  // A refreshed row may carry the amount as text; it is whole minor units either way.
  const amount = BigInt(payment.amountMinor);
  const share = split ? BigInt(split.payeeShareMinor) : amount;
  if (share < 0n || share > amount)
    throw new AppError('BAD_USER_INPUT', `the payee's share must be 0 to ${amount} minor units`);
  const fee = platformFee(share);
  const { ledgerPost } = await peers.request<{ ledgerPost: { amountMinor: string } }>('wallet', LEDGER_POST, {
    input: { id: ids.release, pendingId: ids.hold },
  });
  const pay = async (id: string, to: object, value: bigint, memo: string) => {
    if (value <= 0n) return 0n;
    const { ledgerTransfer } = await peers.request<{ ledgerTransfer: { amountMinor: string } }>(
      'wallet',
      TRANSFER,
      {
        input: {
          id,
          from: { system: 'ESCROW' },
          to,
          asset: payment.asset,
          amountMinor: value.toString(),
          memo,
        },
      },
    );
    return BigInt(ledgerTransfer.amountMinor);
  };
  return {
    postedMinor: BigInt(ledgerPost.amountMinor),
    payoutMinor: await pay(ids.payout, { accountId: payeeId }, share - fee, payment.memo),
    feeMinor: await pay(ids.fee, { system: 'PLATFORM_REVENUE' }, fee, `platform fee on ${payment.memo}`),
    returnedMinor: split
      ? await pay(ids.giveBack, { accountId: split.payerId }, amount - share, `rest of ${payment.memo}`)
      : 0n,
  };
}
