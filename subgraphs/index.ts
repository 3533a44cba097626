import type { SubgraphDefinition, SubgraphName } from '../lib';
import { accounts } from './accounts';
import { agents } from './agents';
import { memory } from './memory';
import { sessions } from './sessions';
import { tasks } from './tasks';
import { wallet } from './wallet';

export const subgraphs: Record<SubgraphName, SubgraphDefinition> = {
  accounts,
  agents,
  sessions,
  memory,
  tasks,
  wallet,
};
