import type { SubgraphDefinition } from '../../lib';
import { Agent } from './agent.entity';
import { AgentResolver } from './agent.resolver';
import { AgentStatsResolver } from './agent.stats';
import { AgentsInit } from './migrations/0001-init';
import { AgentsMarketplace } from './migrations/0002-marketplace';

export const agents: SubgraphDefinition = {
  name: 'agents',
  entities: [Agent],
  migrations: [
    { name: '0001-init', class: AgentsInit },
    { name: '0002-marketplace', class: AgentsMarketplace },
  ],
  resolvers: [AgentResolver, AgentStatsResolver],
  entityTypes: { Agent },
};
