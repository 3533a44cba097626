import type { SubgraphDefinition } from '../../lib';
import { TasksInit } from './migrations/0001-init';
import { Task } from './task.entity';
import { TaskResolver } from './task.resolver';

export const tasks: SubgraphDefinition = {
  name: 'tasks',
  entities: [Task],
  migrations: [{ name: '0001-init', class: TasksInit }],
  resolvers: [TaskResolver],
  entityTypes: { Task },
};
