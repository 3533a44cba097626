import type { SubgraphDefinition } from '../../lib';
import { LedgerAccount } from './ledger-account.entity';
import { LedgerAccountResolver } from './ledger-account.resolver';
import { WalletInit } from './migrations/0001-init';

export const wallet: SubgraphDefinition = {
  name: 'wallet',
  entities: [LedgerAccount],
  migrations: [{ name: '0001-init', class: WalletInit }],
  resolvers: [LedgerAccountResolver],
  entityTypes: { LedgerAccount },
};
