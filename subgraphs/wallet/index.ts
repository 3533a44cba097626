import type { ClassType } from 'type-graphql';
import type { EntityType, SubgraphDefinition } from '../../lib';
import { Asset } from './asset.entity';
import { LedgerAccount, ownerOfAccount } from './ledger-account.entity';
import { LedgerAccountResolver } from './ledger-account.resolver';
import { LedgerEntry } from './ledger-entry.entity';
import { LedgerEntryResolver } from './ledger-entry.resolver';
import { startHoldSweeper } from './ledger.sweeper';
import { WalletInit } from './migrations/0001-init';
import { WalletLedger } from './migrations/0002-ledger';
import { ownerOfTransfer, Transfer } from './transfer.entity';
import { TransferResolver } from './transfer.resolver';

export { expireDueHolds } from './ledger.sweeper';
export * from './ledger.service';
export { SystemAccountRole } from './ledger.accounts';

/** An entity `__resolveReference` answers only to its owner (and admins and peer services). */
const owned = <T extends { id: string }>(entity: ClassType<T>, owner: (row: T) => string) =>
  ({ entity, owner }) as unknown as EntityType;

export const wallet: SubgraphDefinition = {
  name: 'wallet',
  entities: [Asset, LedgerAccount, Transfer, LedgerEntry],
  migrations: [
    { name: '0001-init', class: WalletInit },
    { name: '0002-ledger', class: WalletLedger },
  ],
  resolvers: [LedgerAccountResolver, TransferResolver, LedgerEntryResolver],
  entityTypes: {
    LedgerAccount: owned(LedgerAccount, ownerOfAccount),
    Transfer: owned(Transfer, ownerOfTransfer),
  },
  background: (deps) => startHoldSweeper(deps),
};
