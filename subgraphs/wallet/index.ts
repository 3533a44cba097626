import { ownedEntity, type SubgraphDefinition } from '../../lib';
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

export const wallet: SubgraphDefinition = {
  name: 'wallet',
  entities: [Asset, LedgerAccount, Transfer, LedgerEntry],
  migrations: [
    { name: '0001-init', class: WalletInit },
    { name: '0002-ledger', class: WalletLedger },
  ],
  resolvers: [LedgerAccountResolver, TransferResolver, LedgerEntryResolver],
  entityTypes: {
    LedgerAccount: ownedEntity(LedgerAccount, ownerOfAccount),
    Transfer: ownedEntity(Transfer, ownerOfTransfer),
  },
  background: (deps) => startHoldSweeper(deps),
};
