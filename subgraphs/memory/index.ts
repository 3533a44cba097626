import { ownedEntity, type SubgraphDefinition } from '../../lib';
import { MemoryEntry } from './memory.entity';
import { MemoryResolver } from './memory.resolver';
import { MemoryInit } from './migrations/0001-init';
import { MemoryOwner } from './migrations/0002-owner';

export const memory: SubgraphDefinition = {
  name: 'memory',
  entities: [MemoryEntry],
  migrations: [
    { name: '0001-init', class: MemoryInit },
    { name: '0002-owner', class: MemoryOwner },
  ],
  resolvers: [MemoryResolver],
  entityTypes: { MemoryEntry: ownedEntity(MemoryEntry, (entry) => entry.ownerId) },
};
