import type { SubgraphDefinition } from '../../lib';
import { Account } from './account.entity';
import { AccountResolver } from './account.resolver';
import { AccountsInit } from './migrations/0001-init';

export const accounts: SubgraphDefinition = {
  name: 'accounts',
  entities: [Account],
  migrations: [{ name: '0001-init', class: AccountsInit }],
  resolvers: [AccountResolver],
  entityTypes: { Account },
};
