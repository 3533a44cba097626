import type { Logger, PubSub } from '../../../lib';
import { LedgerEntry } from './ledger-entry.entity';

/** Balance changes of one owner (an account id, or `system:<ROLE>`). */
export const walletTopic = (ownerId: string) => `wallet.events.${ownerId}`;

/** An entry as JSON: bigints as decimal strings, dates as ISO strings. */
export type LedgerEntryWire = {
  [K in keyof LedgerEntry]: LedgerEntry[K] extends bigint | Date ? string : LedgerEntry[K];
};

const toWire = (entry: LedgerEntry) =>
  Object.fromEntries(
    Object.entries(entry).map(([key, value]) => [
      key,
      value instanceof Date ? value.toISOString() : typeof value === 'bigint' ? value.toString() : value,
    ]),
  ) as LedgerEntryWire;

export function fromWire(wire: LedgerEntryWire): LedgerEntry {
  return Object.assign(new LedgerEntry(), {
    ...wire,
    postedDelta: BigInt(wire.postedDelta),
    pendingDelta: BigInt(wire.pendingDelta),
    postedAfter: BigInt(wire.postedAfter),
    availableAfter: BigInt(wire.availableAfter),
    createdAt: new Date(wire.createdAt),
  });
}

/**
 * Called after the transfer is committed: one event per balance change, to its owner's topic. A
 * lost publish must not undo a committed transfer, so a failure is logged.
 */
export async function publishBalanceChanges(
  deps: { pubsub: PubSub; log: Logger },
  entries: LedgerEntry[],
): Promise<void> {
  await Promise.all(
    entries.map((entry) =>
      deps.pubsub
        .publish(walletTopic(entry.ownerId), toWire(entry))
        .catch((error: unknown) =>
          deps.log.error({ err: error, transferId: entry.transferId }, 'wallet event not published'),
        ),
    ),
  );
}
