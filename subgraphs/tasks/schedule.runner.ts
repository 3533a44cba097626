import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { CronExpressionParser } from 'cron-parser';
import { badInput, type BackgroundDeps, type Logger, type PubSub, type Stoppable } from '../../lib';
import { Schedule, ScheduleRun, ScheduleRunStatus } from './schedule.entity';
import { Task } from './task.entity';
import { pruneTaskEvents } from './task.event.store';
import { publishTaskEvent } from './task.events';
import { TaskTransition } from './task.machine';
import { expireOverdueTasks } from './task.transitions';

/** The first time after `from` that `cron` fires (UTC); a malformed expression is bad input. */
export function nextRun(cron: string, from: Date): Date {
  if (cron.trim().split(/\s+/).length !== 5)
    throw badInput('cron must have five fields: minute hour day month weekday', { field: 'cron' });
  try {
    return CronExpressionParser.parse(cron, { currentDate: from, tz: 'UTC' }).next().toDate();
  } catch (error) {
    throw badInput(`cron is not valid: ${(error as Error).message}`, { field: 'cron' });
  }
}

/** How many due schedules one pass takes; the rest wait for the next pass. */
const BATCH = 50;

/**
 * Fires every schedule that is due: in one transaction per pass, locks due schedules (skipping
 * those another replica holds), creates their tasks and runs and moves them to their next time,
 * so a schedule fires once per due time however many replicas poll. Events go out after commit.
 */
export async function runDueSchedules(
  deps: { em: EntityManager; pubsub: PubSub; log: Logger },
  now = new Date(),
) {
  const created = await deps.em.transactional(async (em) => {
    const due = await em.find(
      Schedule,
      { enabled: true, nextRunAt: { $lte: now } },
      { orderBy: { nextRunAt: 'asc' }, limit: BATCH, lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
    );
    const tasks: Task[] = [];
    for (const schedule of due) {
      const task = em.create(Task, {
        title: schedule.taskTitle,
        description: schedule.taskDescription,
        rewardMinor: schedule.taskRewardMinor,
        asset: schedule.taskAsset,
        creatorId: schedule.ownerId,
      });
      tasks.push(task);
      em.create(ScheduleRun, {
        scheduleId: schedule.id,
        ownerId: schedule.ownerId,
        dueAt: schedule.nextRunAt,
        ranAt: now,
        status: ScheduleRunStatus.SUCCEEDED,
        taskId: task.id,
      });
      schedule.lastRunAt = now;
      schedule.nextRunAt = nextRun(schedule.cron, now);
    }
    return tasks;
  });
  for (const task of created) await publishTaskEvent(deps, task, TaskTransition.CREATE, null);
  return created;
}

/** The tasks subgraph's clock: fires due schedules and expires overdue tasks every `pollMs`. */
export function startTaskClock({ orm, pubsub, log }: BackgroundDeps, pollMs: number): Stoppable {
  const fork = () => orm.em.fork() as unknown as EntityManager;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();
  const loop = () => {
    pass = (async () => {
      await runDueSchedules({ em: fork(), pubsub, log });
      await expireOverdueTasks({ em: fork(), pubsub, log });
      await pruneTaskEvents(fork());
    })()
      .catch((error: unknown) => log.error({ err: error }, 'task clock pass failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, pollMs);
      });
  };
  timer = setTimeout(loop, pollMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await pass;
    },
  };
}
