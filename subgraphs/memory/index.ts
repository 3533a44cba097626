import { ownedEntity, type SubgraphDefinition } from '../../lib';
import { MemoryEntry } from './memory.entity';
import { MemoryResolver } from './memory.resolver';
import { MemoryInit } from './migrations/0001-init';
import { MemoryOwner } from './migrations/0002-owner';
import { MemorySearch } from './migrations/0003-search';
import { MemoryRankedSearch } from './migrations/0004-ranked-search';
import { MemoryOwnerWords } from './migrations/0005-owner-words';
import { MemoryPlanRows } from './migrations/0006-plan-rows';
import { MemoryPlatformResolver } from './memory.platform';

export const memory: SubgraphDefinition = {
  name: 'memory',
  entities: [MemoryEntry],
  migrations: [
    { name: '0001-init', class: MemoryInit },
    { name: '0002-owner', class: MemoryOwner },
    { name: '0003-search', class: MemorySearch },
    { name: '0004-ranked-search', class: MemoryRankedSearch },
    { name: '0005-owner-words', class: MemoryOwnerWords },
    { name: '0006-plan-rows', class: MemoryPlanRows },
  ],
  resolvers: [MemoryResolver, MemoryPlatformResolver],
  entityTypes: { MemoryEntry: ownedEntity(MemoryEntry, (entry) => entry.ownerId) },
};
