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
export const activityStatus = (entry: Activity) =>
  entry.kind === 'PENDING'
    ? 'pending'
    : entry.kind === 'VOID' || entry.kind === 'EXPIRE'
      ? 'released'
      : 'completed';

/** The entry's category in the dialects' lower-case words: deposit, withdrawal, charge, escrow, transfer. */
export const activityType = (entry: Activity) => entry.category.toLowerCase();
