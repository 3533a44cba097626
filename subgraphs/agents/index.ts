import type { EntityManager, SubgraphDefinition } from '../../lib';
import { Agent } from './agent.entity';
import { AgentResolver } from './agent.resolver';
import { AgentStatsResolver } from './agent.stats';
import { AgentsInit } from './migrations/0001-init';
import { AgentsMarketplace } from './migrations/0002-marketplace';
import { AgentsOrders } from './migrations/0003-orders';
import { AgentsSkills } from './migrations/0004-skills';
import { AgentsSubagents } from './migrations/0005-subagents';
import { AgentsOrderAmounts } from './migrations/0006-order-amounts';
import { AgentsDeleted } from './migrations/0007-deleted';
import { AgentsDiscovery } from './migrations/0008-discovery';
import { DiscoveredAgent } from './discovery/discovered-agent.entity';
import { DiscoveryResolver } from './discovery/discovery.resolver';
import { Order } from './orders/order.entity';
import { OrderResolver } from './orders/order.resolver';
import { startOrderReconciler } from './orders/order.service';
import { SubAgent } from './runtime/subagent.entity';
import { SubAgentResolver } from './runtime/subagent.resolver';
import { AgentCardResolver } from './skills/agent-card.resolver';
import { indexNewSkills, SkillResolver } from './skills/skill.resolver';

export { reconcileOrders } from './orders/order.service';
export { indexNewSkills } from './skills/skill.resolver';

export const agents: SubgraphDefinition = {
  name: 'agents',
  entities: [Agent, Order, SubAgent, DiscoveredAgent],
  migrations: [
    { name: '0001-init', class: AgentsInit },
    { name: '0002-marketplace', class: AgentsMarketplace },
    { name: '0003-orders', class: AgentsOrders },
    { name: '0004-skills', class: AgentsSkills },
    { name: '0005-subagents', class: AgentsSubagents },
    { name: '0006-order-amounts', class: AgentsOrderAmounts },
    { name: '0007-deleted', class: AgentsDeleted },
    { name: '0008-discovery', class: AgentsDiscovery },
  ],
  resolvers: [
    AgentResolver,
    AgentStatsResolver,
    OrderResolver,
    SkillResolver,
    AgentCardResolver,
    SubAgentResolver,
    DiscoveryResolver,
  ],
  entityTypes: { Agent },
  background: async (deps) => {
    // New folders join the index at start; known skills keep their recorded hashes, so the audit
    // reports what changed while the platform was down (POST /api/skills/reload re-records them).
    await indexNewSkills(deps.orm.em.fork() as unknown as EntityManager).catch((error: unknown) =>
      deps.log.warn({ err: error }, 'skills were not loaded'),
    );
    return startOrderReconciler(deps);
  },
};
