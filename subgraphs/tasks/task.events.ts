import { Field, ObjectType, registerEnumType } from 'type-graphql';
import type { EntityManager, Identity, Logger, PubSub } from '../../lib';
import { Task, TaskStatus } from './task.entity';
import type { TaskEventFilter } from './task.input';
import { TaskTransition } from './task.machine';
import { storeTaskEvent } from './task.event.store';
import { enqueueWebhookDeliveries } from './webhook.delivery';

export const TASK_EVENTS = 'tasks.events';

export enum TaskEventKind {
  CREATED = 'CREATED',
  UPDATED = 'UPDATED',
}
registerEnumType(TaskEventKind, { name: 'TaskEventKind' });
registerEnumType(TaskTransition, { name: 'TaskTransition', description: 'What happened to a task.' });

@ObjectType({ description: 'A change to a task, with the task as it was right after the change.' })
export class TaskEvent {
  @Field({ description: 'Its cursor: subscribe with `after` = the last one you saw to miss nothing.' })
  seq!: string;

  @Field(() => TaskEventKind)
  kind!: TaskEventKind;

  @Field(() => TaskTransition)
  transition!: TaskTransition;

  @Field(() => TaskStatus, { nullable: true, description: 'The status before the change; null on CREATE.' })
  previousStatus!: TaskStatus | null;

  @Field(() => Task)
  task!: Task;

  @Field()
  at!: Date;
}

type Column = Exclude<keyof Task, symbol>;
type ColumnsOf<V> = { [K in Column]: [Exclude<Task[K], null>] extends [V] ? K : never }[Column];
type Json<V> = V extends Date | bigint ? string : V;

/** The task as JSON: dates as ISO strings, money as decimal strings. */
export type TaskWire = { [K in Column]: Json<Task[K]> };

// Records rather than lists, so the compiler insists on every date and money column.
const DATE_COLUMNS: Record<ColumnsOf<Date>, true> = {
  deadline: true,
  createdAt: true,
  updatedAt: true,
  fundedAt: true,
  acceptedAt: true,
  startedAt: true,
  deliveredAt: true,
  confirmedAt: true,
  disputedAt: true,
  resolvedAt: true,
  cancelledAt: true,
  failedAt: true,
  expiredAt: true,
};
const BIGINT_COLUMNS: Record<ColumnsOf<bigint>, true> = { rewardMinor: true, budgetMinor: true };

/** The JSON form that crosses the pub/sub: self-contained, so no subscriber reads the database. */
export interface TaskEventPayload {
  /** The event's place in the task_event table, increasing; a decimal string. */
  seq: string;
  kind: TaskEventKind;
  transition: TaskTransition;
  previousStatus: TaskStatus | null;
  at: string;
  task: TaskWire;
}

function toWire(task: Task): TaskWire {
  const wire: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(task))
    wire[key] =
      value instanceof Date ? value.toISOString() : typeof value === 'bigint' ? String(value) : value;
  return wire as TaskWire;
}

function fromWire(wire: TaskWire): Task {
  const task = Object.assign(new Task(), wire) as unknown as Record<string, unknown>;
  for (const key of Object.keys(DATE_COLUMNS) as ColumnsOf<Date>[])
    task[key] = wire[key] === null ? null : new Date(wire[key]);
  for (const key of Object.keys(BIGINT_COLUMNS) as ColumnsOf<bigint>[])
    task[key] = wire[key] === null ? null : BigInt(wire[key]);
  return task as unknown as Task;
}

export function fromPayload(payload: TaskEventPayload): TaskEvent {
  return {
    seq: payload.seq,
    kind: payload.kind,
    transition: payload.transition,
    previousStatus: payload.previousStatus,
    at: new Date(payload.at),
    task: fromWire(payload.task),
  };
}

/** A subscriber sees only its own tasks (admins see all), narrowed by the filter's arguments. */
export function matchesFilter(
  { task }: TaskEventPayload,
  filter: TaskEventFilter,
  subscriber: Identity,
): boolean {
  return (
    (subscriber.role === 'ADMIN' || task.creatorId === subscriber.accountId) &&
    (!filter.taskId || task.id === filter.taskId) &&
    (!filter.agentId || task.agentId === filter.agentId) &&
    (!filter.status || task.status === filter.status)
  );
}

/**
 * Called after the change is committed: queues the webhook deliveries, then publishes to
 * subscribers. A lost publish must not undo a committed change, so a failure is logged. Takes only
 * what a request and a job share, so jobs outside a request (expiry) publish too.
 */
export async function publishTaskEvent(
  deps: { em: EntityManager; pubsub: PubSub; log: Logger },
  task: Task,
  transition: TaskTransition,
  previousStatus: TaskStatus | null,
): Promise<void> {
  const event: Omit<TaskEventPayload, 'seq'> = {
    kind: transition === TaskTransition.CREATE ? TaskEventKind.CREATED : TaskEventKind.UPDATED,
    transition,
    previousStatus,
    at: new Date().toISOString(),
    task: toWire(task),
  };
  let payload: TaskEventPayload;
  try {
    // Stored before it is published, so a resumed subscription can replay whatever it missed.
    payload = await storeTaskEvent(deps.em, event);
  } catch (error) {
    deps.log.error({ err: error, taskId: task.id }, 'task event not stored');
    return;
  }
  try {
    await enqueueWebhookDeliveries(deps, task, payload);
  } catch (error) {
    deps.log.error({ err: error, taskId: task.id }, 'task event not queued for webhooks');
  }
  try {
    await deps.pubsub.publish(TASK_EVENTS, payload);
  } catch (error) {
    deps.log.error({ err: error, taskId: task.id }, 'task event not published');
  }
}
