import type { SubgraphDefinition } from '../../lib';
import { SessionsInit } from './migrations/0001-init';
import { Session } from './session.entity';
import { SessionResolver } from './session.resolver';

export const sessions: SubgraphDefinition = {
  name: 'sessions',
  entities: [Session],
  migrations: [{ name: '0001-init', class: SessionsInit }],
  resolvers: [SessionResolver],
  entityTypes: { Session },
};
