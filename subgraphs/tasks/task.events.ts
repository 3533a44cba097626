import { Field, ObjectType, registerEnumType } from 'type-graphql';
import type { Identity, SubgraphContext } from '../../lib';
import { Task, type TaskStatus } from './task.entity';
import type { TaskEventFilter } from './task.input';

export const TASK_EVENTS = 'tasks.events';

export enum TaskEventKind {
  CREATED = 'CREATED',
  UPDATED = 'UPDATED',
}
registerEnumType(TaskEventKind, { name: 'TaskEventKind' });

@ObjectType({ description: 'A change to a task, with the task as it was right after the change.' })
export class TaskEvent {
  @Field(() => TaskEventKind)
  kind!: TaskEventKind;

  @Field(() => Task)
  task!: Task;

  @Field()
  at!: Date;
}

/** The JSON form that crosses the pub/sub: self-contained, so no subscriber reads the database. */
export interface TaskEventPayload {
  kind: TaskEventKind;
  at: string;
  task: Omit<Task, 'rewardMinor' | 'createdAt' | 'updatedAt'> & {
    rewardMinor: string;
    createdAt: string;
    updatedAt: string;
  };
}

function toPayload(kind: TaskEventKind, task: Task): TaskEventPayload {
  return {
    kind,
    at: new Date().toISOString(),
    task: {
      id: task.id,
      title: task.title,
      description: task.description,
      status: task.status,
      asset: task.asset,
      creatorId: task.creatorId,
      agentId: task.agentId,
      rewardMinor: task.rewardMinor.toString(),
      createdAt: task.createdAt.toISOString(),
      updatedAt: task.updatedAt.toISOString(),
    },
  };
}

export function fromPayload(payload: TaskEventPayload): TaskEvent {
  const task = Object.assign(new Task(), {
    ...payload.task,
    rewardMinor: BigInt(payload.task.rewardMinor),
    createdAt: new Date(payload.task.createdAt),
    updatedAt: new Date(payload.task.updatedAt),
  });
  return { kind: payload.kind, at: new Date(payload.at), task };
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
    (!filter.status || task.status === (filter.status as TaskStatus))
  );
}

/** Called after the change is committed. A lost publish must not undo a committed change, so it is logged. */
export async function publishTaskEvent(ctx: SubgraphContext, kind: TaskEventKind, task: Task): Promise<void> {
  try {
    await ctx.pubsub.publish(TASK_EVENTS, toPayload(kind, task));
  } catch (error) {
    ctx.log.error({ err: error, taskId: task.id }, 'task event not published');
  }
}
