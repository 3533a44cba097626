import type { SubgraphDefinition } from '../../lib';
import { Agent } from './agent.entity';
import { AgentResolver } from './agent.resolver';
import { AgentStatsResolver } from './agent.stats';
import { AgentsInit } from './migrations/0001-init';
import { AgentsMarketplace } from './migrations/0002-marketplace';
import { AgentsOrders } from './migrations/0003-orders';
import { Order } from './orders/order.entity';
import { OrderResolver } from './orders/order.resolver';
import { startOrderReconciler } from './orders/order.service';

export { reconcileOrders } from './orders/order.service';

export const agents: SubgraphDefinition = {
  name: 'agents',
  entities: [Agent, Order],
  migrations: [
    { name: '0001-init', class: AgentsInit },
    { name: '0002-marketplace', class: AgentsMarketplace },
    { name: '0003-orders', class: AgentsOrders },
  ],
  resolvers: [AgentResolver, AgentStatsResolver, OrderResolver],
  entityTypes: { Agent },
  background: (deps) => startOrderReconciler(deps),
};
