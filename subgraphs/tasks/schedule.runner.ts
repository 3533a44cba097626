import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { CronExpressionParser } from 'cron-parser';
import { badInput, type BackgroundDeps, type Logger, type PubSub, type Stoppable } from '../../lib';
import { publishScheduleRuns } from './schedule.events';
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
 * Fires every schedule that is due, each in its own transaction: locks it (skipping one another
 * replica holds), creates its task and run and moves it to its next time, so a schedule fires once
 * per due time however many replicas poll. A schedule that cannot fire is logged and skipped, and
 * the others still fire. Events go out after commit.
 */
export async function runDueSchedules(
  deps: { em: EntityManager; pubsub: PubSub; log: Logger },
  now = new Date(),
) {
  const due = await deps.em
    .fork()
    .find(
      Schedule,
      { enabled: true, nextRunAt: { $lte: now } },
      { orderBy: { nextRunAt: 'asc' }, limit: BATCH, fields: ['id'] },
    );
  const created: Task[] = [];
  const runs: ScheduleRun[] = [];
  for (const { id } of due) {
    try {
      const fired = await fireSchedule(deps.em.fork(), id, now);
      if (fired?.task) created.push(fired.task);
      if (fired) runs.push(fired.run);
    } catch (error) {
      deps.log.error({ err: error, scheduleId: id }, 'schedule could not fire; skipped');
    }
  }
  for (const task of created) await publishTaskEvent(deps, task, TaskTransition.CREATE, null);
  await publishScheduleRuns(deps, runs);
  return created;
}

/** Fires one due schedule: its run (and task); nothing when another replica holds it or fired it first. */
function fireSchedule(
  em: EntityManager,
  id: string,
  now: Date,
): Promise<{ run: ScheduleRun; task?: Task } | undefined> {
  return em.transactional(async (tx) => {
    const schedule = await tx.findOne(
      Schedule,
      { id, enabled: true, nextRunAt: { $lte: now } },
      { lockMode: LockMode.PESSIMISTIC_PARTIAL_WRITE },
    );
    if (!schedule) return undefined;
    const run = { scheduleId: schedule.id, ownerId: schedule.ownerId, dueAt: schedule.nextRunAt, ranAt: now };
    let next: Date;
    try {
      next = nextRun(schedule.cron, now);
    } catch (error) {
      // A cron that no longer parses would be due at every pass: it stops, and its run says why.
      const failed = tx.create(ScheduleRun, {
        ...run,
        status: ScheduleRunStatus.FAILED,
        error: (error as Error).message,
      });
      schedule.enabled = false;
      return { run: failed };
    }
    const task = tx.create(Task, {
      title: schedule.taskTitle,
      description: schedule.taskDescription,
      rewardMinor: schedule.taskRewardMinor,
      asset: schedule.taskAsset,
      creatorId: schedule.ownerId,
    });
    const succeeded = tx.create(ScheduleRun, {
      ...run,
      status: ScheduleRunStatus.SUCCEEDED,
      taskId: task.id,
    });
    schedule.lastRunAt = now;
    schedule.nextRunAt = next;
    return { run: succeeded, task };
  });
}

/** The tasks subgraph's clock: fires due schedules and expires overdue tasks every `pollMs`. */
export function startTaskClock({ orm, pubsub, log, peers }: BackgroundDeps, pollMs: number): Stoppable {
  const fork = () => orm.em.fork() as unknown as EntityManager;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> = Promise.resolve();
  // Each job of a pass runs whatever another one did: one failing stops none of the others.
  const jobs: [string, () => Promise<unknown>][] = [
    ['schedules', () => runDueSchedules({ em: fork(), pubsub, log })],
    ['expiries', () => expireOverdueTasks({ em: fork(), pubsub, log, peers })],
    ['event pruning', () => pruneTaskEvents(fork())],
  ];
  const loop = () => {
    pass = (async () => {
      for (const [job, run] of jobs)
        await run().catch((error: unknown) => log.error({ err: error, job }, 'task clock job failed'));
    })().finally(() => {
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
