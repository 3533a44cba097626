/**
 * How the dialects show wallet activity (ledger entries): the amount an entry moved, its state and
 * its kind in the dialects' words. Amounts stay minor units; mapping.ts formats them.
 */
import type { WalletActivityFieldsFragment } from './generated/graphql';

type Activity = WalletActivityFieldsFragment;

/** What an entry did to the balance: posted money for SINGLE and POST, held or released otherwise. */
export const activityAmount = (entry: Activity) =>
  entry.kind === 'SINGLE' || entry.kind === 'POST' ? entry.postedDelta : entry.pendingDelta;

/** An entry's state in words: a hold is `pending`; a void or expiry `released`; money moved `completed`. */
const activityStatus = (entry: Activity) =>
  entry.kind === 'PENDING'
    ? 'pending'
    : entry.kind === 'VOID' || entry.kind === 'EXPIRE'
      ? 'released'
      : 'completed';

/** The entry's category in the dialects' lower-case words: deposit, withdrawal, charge, escrow, transfer. */
export const activityType = (entry: Activity) => entry.category.toLowerCase();

/**
 * What a movement finally did to the balance (rows of `walletActivity(movements: true)`): a posted
 * hold its posted amount, a voided or expired one nothing, an open one what it holds. The rows of a
 * history then sum to the available balance.
 */
export const movementAmount = (entry: Activity): string => {
  if (entry.kind !== 'PENDING' || !entry.resolution) return activityAmount(entry);
  if (entry.resolution.kind !== 'POST') return '0';
  const posted = BigInt(entry.resolution.amountMinor);
  return String(entry.side === 'DEBIT' ? -posted : posted);
};

/** A movement's final state: a hold that was posted is `completed`, voided or expired `released`. */
export const movementStatus = (entry: Activity) =>
  entry.kind === 'PENDING' && entry.resolution
    ? entry.resolution.kind === 'POST'
      ? 'completed'
      : 'released'
    : activityStatus(entry);
