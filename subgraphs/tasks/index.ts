import { loadConfig, ownedEntity, type SubgraphDefinition } from '../../lib';
import { TasksInit } from './migrations/0001-init';
import { TasksLifecycle } from './migrations/0002-lifecycle';
import { TasksWebhooks } from './migrations/0003-webhooks';
import { TasksSchedules } from './migrations/0004-schedules';
import { TasksApprovals } from './migrations/0005-approvals';
import { TasksWorkerNames } from './migrations/0006-worker-names';
import { TasksRewardSettlement } from './migrations/0007-reward-settlement';
import { TasksPaymentProof } from './migrations/0008-payment-proof';
import { TasksSplitResolution } from './migrations/0009-split-resolution';
import { TasksHireRequests } from './migrations/0010-hire-requests';
import { TasksGazeRequired } from './migrations/0011-gaze-required';
import { TaskHireResolver } from './task.hire';
import { ApprovalRequest } from './approval.entity';
import { ApprovalResolver } from './approval.resolver';
import { Schedule, ScheduleRun } from './schedule.entity';
import { ScheduleResolver } from './schedule.resolver';
import { startTaskClock } from './schedule.runner';
import { SwarmResolver } from './swarm.resolver';
import { Task } from './task.entity';
import { TaskResolver } from './task.resolver';
import { startRewardReconciler } from './task.rewards';
import { creatorOf } from './task.transitions';
import { startWebhookWorker } from './webhook.delivery';
import { WebhookDelivery, WebhookEndpoint } from './webhook.entity';
import { WebhookDeliveryResolver, WebhookEndpointResolver } from './webhook.resolver';

export { runDueSchedules } from './schedule.runner';
export { expireOverdueTasks } from './task.transitions';
export { reconcileRewards } from './task.rewards';
export { startWebhookWorker } from './webhook.delivery';
export { toHermesStatus, toX402Status, type HermesStatus, type X402Status } from './task.machine';

export const tasks: SubgraphDefinition = {
  name: 'tasks',
  entities: [Task, ApprovalRequest, Schedule, ScheduleRun, WebhookEndpoint, WebhookDelivery],
  migrations: [
    { name: '0001-init', class: TasksInit },
    { name: '0002-lifecycle', class: TasksLifecycle },
    { name: '0003-webhooks', class: TasksWebhooks },
    { name: '0004-schedules', class: TasksSchedules },
    { name: '0005-approvals', class: TasksApprovals },
    { name: '0006-worker-names', class: TasksWorkerNames },
    { name: '0007-reward-settlement', class: TasksRewardSettlement },
    { name: '0008-payment-proof', class: TasksPaymentProof },
    { name: '0009-split-resolution', class: TasksSplitResolution },
    { name: '0010-hire-requests', class: TasksHireRequests },
    { name: '0011-gaze-required', class: TasksGazeRequired },
  ],
  resolvers: [
    TaskResolver,
    TaskHireResolver,
    ApprovalResolver,
    SwarmResolver,
    ScheduleResolver,
    WebhookEndpointResolver,
    WebhookDeliveryResolver,
  ],
  entityTypes: { Task: ownedEntity(Task, creatorOf) },
  background: (deps) => {
    const jobs = [
      startTaskClock(deps, loadConfig().TASK_CLOCK_MS),
      startWebhookWorker(deps),
      startRewardReconciler(deps),
    ];
    return { stop: async () => void (await Promise.all(jobs.map((job) => job.stop()))) };
  },
};
