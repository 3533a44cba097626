/**
 * Cron (002): the runtime's cron jobs are the tasks subgraph's schedules, each posting a task.
 */
import {
  CronJobByIdDocument,
  CronJobCreateDocument,
  CronJobDeleteDocument,
  CronJobListDocument,
  CronRunListDocument,
  type ScheduleFieldsFragment,
} from '../generated/graphql';
import { RestError } from '../errors';
import { derived, fromBody, fromBodyAs, fromPath } from '../mapping';
import { route } from '../types';
import { cronRun } from './runtime.socket';

/**
 * A schedule as Ironclad's cron jobs (api/routes/cron.rs list_cron_jobs): every schedule here is a
 * five-field cron expression whose payload posts a task. Runs are not counted per job, so the last
 * status and error count are those of a job that has not failed.
 */
const cronJob = (j: ScheduleFieldsFragment) => ({
  id: j.id,
  name: j.name,
  description: j.taskDescription,
  enabled: j.enabled,
  schedule_kind: 'cron',
  schedule_expr: j.cron,
  agent_id: null,
  payload_json: JSON.stringify({ action: 'create_task', title: j.taskTitle, description: j.taskDescription }),
  last_run_at: j.lastRunAt,
  last_status: null,
  consecutive_errors: 0,
  next_run_at: j.nextRunAt,
  created_at: j.createdAt,
});

/**
 * Ironclad's `schedule_expr` (or its alias `schedule`) with its `schedule_kind`: only `cron` is kept
 * here, so its `every` and `once` are refused (400).
 */
const cronSchedule = derived(({ body }) => {
  const kind = body.schedule_kind;
  if (kind !== undefined && kind !== 'cron')
    throw new RestError('BAD_USER_INPUT', 'schedule_kind must be cron (every and once are not supported)');
  return body.schedule_expr ?? body.schedule;
}, 'schedule_expr');

export const runtimeCronRoutes = [
  route({
    method: 'GET',
    path: '/api/cron/jobs',
    summary: 'List cron jobs',
    operation: CronJobListDocument,
    paged: { connection: (d) => d.schedules },
    shape: ({ schedules }) => ({ jobs: schedules.nodes.map(cronJob) }),
  }),
  route({
    method: 'POST',
    path: '/api/cron/jobs',
    summary: 'Create a cron job that posts a task on its schedule (five-field cron, UTC); answers {job_id}',
    operation: CronJobCreateDocument,
    variables: {
      'input.name': fromBody('name'),
      'input.cron': cronSchedule,
      'input.taskTitle': fromBodyAs(['title', 'name']),
      'input.taskDescription': fromBody('description'),
    },
    shape: (d) => ({ job_id: d.createSchedule.id }),
  }),
  route({
    method: 'GET',
    path: '/api/cron/jobs/:id',
    summary: 'Cron job detail',
    operation: CronJobByIdDocument,
    variables: { id: fromPath('id') },
    shape: (d) => cronJob(d.schedule),
  }),
  route({
    method: 'DELETE',
    path: '/api/cron/jobs/:id',
    summary: 'Delete a cron job',
    operation: CronJobDeleteDocument,
    variables: { id: fromPath('id') },
    shape: (d) => ({ deleted: true, id: d.deleteSchedule.id }),
  }),
  route({
    method: 'GET',
    path: '/api/cron/runs',
    summary: 'Recent cron runs, newest first',
    operation: CronRunListDocument,
    paged: { connection: (d) => d.scheduleRuns },
    shape: ({ scheduleRuns }) => ({
      runs: scheduleRuns.nodes.map(cronRun),
      total: scheduleRuns.totalCount,
    }),
  }),
];
