import type { SubgraphDefinition } from '../../lib';
import { MemoryEntry } from './memory.entity';
import { MemoryResolver } from './memory.resolver';
import { MemoryInit } from './migrations/0001-init';

export const memory: SubgraphDefinition = {
  name: 'memory',
  entities: [MemoryEntry],
  migrations: [{ name: '0001-init', class: MemoryInit }],
  resolvers: [MemoryResolver],
  entityTypes: { MemoryEntry },
};
