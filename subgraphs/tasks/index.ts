import type { SubgraphDefinition } from '../../lib';
import { TasksInit } from './migrations/0001-init';
import { TasksLifecycle } from './migrations/0002-lifecycle';
import { Task } from './task.entity';
import { TaskResolver } from './task.resolver';

export { expireOverdueTasks } from './task.transitions';
export { toHermesStatus, toX402Status, type HermesStatus, type X402Status } from './task.machine';

export const tasks: SubgraphDefinition = {
  name: 'tasks',
  entities: [Task],
  migrations: [
    { name: '0001-init', class: TasksInit },
    { name: '0002-lifecycle', class: TasksLifecycle },
  ],
  resolvers: [TaskResolver],
  entityTypes: { Task },
};
