import type { SubgraphDefinition } from '../../lib';
import { Agent } from './agent.entity';
import { AgentResolver } from './agent.resolver';
import { AgentsInit } from './migrations/0001-init';

export const agents: SubgraphDefinition = {
  name: 'agents',
  entities: [Agent],
  migrations: [{ name: '0001-init', class: AgentsInit }],
  resolvers: [AgentResolver],
  entityTypes: { Agent },
};
