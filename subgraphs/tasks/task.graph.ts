import { badInput, conflict, notFound, type SubgraphContext } from '../../lib';
import { Task } from './task.entity';
import { MAX_DEPENDENCIES } from './task.input';
import { EDITABLE_GRAPH_STATES } from './task.machine';
import { creatorOf } from './task.transitions';

/** At creation: the parent and every dependency must be tasks of the creator (others' are NOT_FOUND). */
export async function checkTaskReferences(
  ctx: SubgraphContext,
  creatorId: string,
  parentTaskId: string | null,
  dependsOn: readonly string[],
): Promise<void> {
  const ids = [...new Set([...(parentTaskId !== null ? [parentTaskId] : []), ...dependsOn])];
  if (!ids.length) return;
  const found = await ctx.em.find(Task, { id: { $in: ids }, creatorId });
  const known = new Set(found.map((task) => task.id));
  const missing = ids.find((id) => !known.has(id));
  if (missing) throw notFound('Task', missing);
}

/** A row when the first task is the third, or depends on it through the creator's (second) tasks. */
const REACHES = `
  with recursive "reachable" ("id") as (
    select ?::text
    union
    select "next"."id"
    from "reachable" join "tasks"."task" as "task" on "task"."id" = "reachable"."id"
    cross join lateral unnest("task"."depends_on") as "next" ("id")
    where "task"."creator_id" = ?
  )
  select 1 from "reachable" where "id" = ? limit 1`;

const editableStates = EDITABLE_GRAPH_STATES.map((status) => `'${status}'`).join(', ');

/**
 * Makes `taskId` wait for `dependencyId`. Refused with BAD_USER_INPUT when the edge would close a
 * cycle, and with CONFLICT once the task has been claimed (dependencies only gate the claim).
 */
export async function addTaskDependency(
  ctx: SubgraphContext,
  taskId: string,
  dependencyId: string,
): Promise<Task> {
  // Loaded together: the two loads become one statement.
  const [task, dependency] = await Promise.all([
    ctx.getOwned(Task, taskId, creatorOf),
    ctx.getOwned(Task, dependencyId, creatorOf),
  ]);
  if (dependency.creatorId !== task.creatorId)
    throw badInput('a task can depend only on tasks of the same creator', { field: 'dependsOn' });
  const notEditable = () =>
    conflict(
      `task ${task.id} is ${task.status}: dependencies change only while ${EDITABLE_GRAPH_STATES.join(' or ')}`,
      { status: task.status },
    );
  if (!EDITABLE_GRAPH_STATES.includes(task.status)) throw notEditable();
  if (task.dependsOn.includes(dependencyId)) return task;
  if (task.dependsOn.length >= MAX_DEPENDENCIES)
    throw badInput(`at most ${MAX_DEPENDENCIES} dependencies`, { field: 'dependsOn' });

  await ctx.em.transactional(async (em) => {
    // One graph edit per creator at a time: two concurrent edits could each miss the other's half of a cycle.
    await em.execute('select pg_advisory_xact_lock(hashtext(?))', [`tasks.graph:${task.creatorId}`]);
    const cycle = await em.execute(REACHES, [dependencyId, task.creatorId, taskId]);
    if (cycle.length)
      throw badInput(
        `${taskId} cannot depend on ${dependencyId}: that would make a cycle (${dependencyId} is or depends on ${taskId})`,
        { field: 'dependsOn' },
      );
    await em.execute(
      `update "tasks"."task" set "depends_on" = array_append("depends_on", ?), "updated_at" = ?
       where "id" = ? and "status" in (${editableStates}) and not (? = any("depends_on"))`,
      [dependencyId, new Date(), taskId, dependencyId],
    );
  });
  await ctx.em.refresh(task);
  // A claim that won the race leaves the task unchanged and no longer editable.
  if (!task.dependsOn.includes(dependencyId)) throw notEditable();
  return task;
}
