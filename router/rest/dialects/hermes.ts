/**
 * hermes: the Hermes OPTX API (001), the OPTX platform's bridge routes (000) and the agent
 * runtime (002), which share the `/api` prefix. 000/001 answer `{"detail": …}` and 422 for invalid
 * input (FastAPI); 002's routes answer `{"error": …}` and 400 (axum), so its rows say so.
 */
import {
  AgentListDocument,
  ApprovalApproveDocument,
  ApprovalDenyDocument,
  ApprovalListDocument,
  CronJobByIdDocument,
  CronJobCreateDocument,
  CronJobDeleteDocument,
  CronJobListDocument,
  CronRunListDocument,
  DeadLetterListDocument,
  DeadLetterReplayDocument,
  MemoryListDocument,
  MemoryStoreDocument,
  MyLedgerAccountsDocument,
  RouterPingDocument,
  SessionByIdDocument,
  SessionListDocument,
  SessionStartDocument,
  TaskByIdDocument,
  TaskCancelDocument,
  TaskClaimDocument,
  TaskCreateDocument,
  TaskDeliverDocument,
  TaskEventStreamDocument,
  TaskListDocument,
  TaskStatsDocument,
  TaskSwarmDocument,
  type ApprovalFieldsFragment,
  type MemoryFieldsFragment,
  type MyLedgerAccountsQuery,
  type SessionFieldsFragment,
  type TaskFieldsFragment,
  type ScheduleFieldsFragment,
  type TaskStatus,
  type WebhookDeliveryRestFieldsFragment,
} from '../generated/graphql';
import {
  decimalAmount,
  decimalsOf,
  epochSeconds,
  fromBody,
  fromPath,
  fromQuery,
  lower,
  minorToNumber,
  oneOf,
} from '../mapping';
import { route, socket, type Dialect, type ErrorStyle } from '../types';

const detail: ErrorStyle = {
  invalidInput: 422,
  wrongContentType: 415,
  body: ({ message }) => ({ detail: message }),
};
const runtime: ErrorStyle = {
  invalidInput: 400,
  wrongContentType: 415,
  body: ({ message }) => ({ error: message }),
};

/** A schedule as 002's cron jobs: it posts a task each time `schedule` fires. */
const cronJob = (j: ScheduleFieldsFragment) => ({
  id: j.id,
  name: j.name,
  schedule: j.cron,
  action: { type: 'create_task', title: j.taskTitle, description: j.taskDescription },
  enabled: j.enabled,
  next_run: j.nextRunAt,
  last_run: j.lastRunAt,
  created_at: j.createdAt,
});

/** An approval request as 002 lists it: the task that waits for it and the decision. */
const approval = (a: ApprovalFieldsFragment) => ({
  id: a.id,
  task_id: a.taskId,
  requested_by: a.requestedBy,
  status: lower(a.state),
  decided_by: a.decidedBy,
  decided_at: a.decidedAt,
  reason: a.reason,
  created_at: a.createdAt,
});

/** A webhook delivery as 002's dead-letter queue lists it; the payload is the JSON that was sent. */
const deadLetter = (d: WebhookDeliveryRestFieldsFragment) => ({
  id: d.id,
  channel: 'webhook',
  endpoint_id: d.endpointId,
  event: d.eventType,
  payload: JSON.parse(d.payload) as unknown,
  status: lower(d.state),
  attempts: d.attempts,
  last_status_code: d.lastStatusCode,
  error: d.lastError,
  created_at: d.createdAt,
  updated_at: d.updatedAt,
});

/**
 * Which of our statuses each Hermes status stands for, to filter and count by it. (A task reads
 * its own Hermes status from `hermesStatus`; RESOLVED reads Completed or Failed by its outcome, so
 * it is counted apart rather than guessed.)
 */
const HERMES_STATUSES: Record<string, TaskStatus[]> = {
  Open: ['FUNDING', 'OPEN'],
  InProgress: ['ACCEPTED', 'IN_PROGRESS'],
  PendingValidation: ['PENDING_VALIDATION', 'DISPUTED'],
  Completed: ['COMPLETED'],
  Failed: ['FAILED', 'EXPIRED'],
  Cancelled: ['CANCELLED'],
};

/** The session as Hermes Workspace reads it (epoch seconds). */
const session = (s: SessionFieldsFragment) => ({
  id: s.id,
  title: s.title,
  model: s.model,
  status: lower(s.status),
  agent_id: s.agent?.id ?? null,
  started_at: epochSeconds(s.startedAt),
  ended_at: epochSeconds(s.endedAt),
  message_count: s.messageCount,
  // No chat turn has been metered yet (chat arrives with the LLM upstream), so no tokens were counted.
  input_tokens: 0,
  output_tokens: 0,
});

const task = (t: TaskFieldsFragment) => ({
  task_id: t.id,
  title: t.title,
  description: t.description,
  status: t.hermesStatus,
  reward: minorToNumber(t.rewardMinor, decimalsOf(t.asset)),
  asset: t.asset,
  assigned_agent: t.agent?.id ?? null,
  created_by: t.creator.id,
  created_at: t.createdAt,
  updated_at: t.updatedAt,
  // Not stored by the tasks subgraph yet: the documented defaults, true of every task today.
  priority: 5,
  gaze_required: false,
  capabilities: [],
  depends_on: [],
});

const memory = (m: MemoryFieldsFragment) => ({
  id: m.id,
  content: m.content,
  category: m.category,
  importance: m.importance,
  tier: lower(m.tier),
  agent_id: m.agent.id,
  created_at: m.createdAt,
});

const balance = (accounts: MyLedgerAccountsQuery['ledgerAccounts']['nodes'], asset: string) => {
  const account = accounts.find((a) => a.asset === asset);
  return minorToNumber(account?.balanceMinor ?? '0', decimalsOf(asset));
};

const swarmStrategy = oneOf({ parallel: 'PARALLEL', sequential: 'SEQUENTIAL', dag: 'DAG' });

const tier = oneOf({ working: 'WORKING', episodic: 'EPISODIC', semantic: 'SEMANTIC' });

export const hermes: Dialect = {
  name: 'hermes',
  title: 'Hermes OPTX API, OPTX platform bridge and agent runtime',
  references: ['000', '001', '002'],
  mountSetting: 'REST_MOUNT_HERMES',
  owns: ['/api', '/ws'],
  errors: detail,
  routes: [
    route({
      method: 'GET',
      path: '/api/health',
      summary: 'Quick health check (status, uptime, version)',
      operation: RouterPingDocument,
      public: true,
      errors: runtime,
      shape: (_data, { server }) => ({ status: 'ok', uptime: server.uptimeSeconds, version: server.version }),
    }),
    route({
      method: 'GET',
      path: '/api/gateway-status',
      summary: 'Feature flags and connection mode',
      operation: RouterPingDocument,
      public: true,
      shape: (_data, { server }) => ({
        status: 'connected',
        // No upstream LLM is wired in yet, so this is the limited mode and there is no model.
        mode: 'portable',
        model: null,
        version: server.version,
        features: {
          sessions: true,
          streaming: false,
          chat_stream: false,
          memory: true,
          tasks: true,
          wallet: true,
          mcp_servers: false,
          tempo_billing: false,
        },
      }),
    }),
    route({
      method: 'GET',
      path: '/api/sessions',
      summary: 'List sessions',
      operation: SessionListDocument,
      paged: { connection: (d) => d.sessions },
      // `items` too: Hermes Workspace reads session lists as {items, total}.
      shape: ({ sessions }, { page }) => {
        const list = sessions.nodes.map(session);
        return { sessions: list, items: list, total: sessions.totalCount, ...page };
      },
    }),
    route({
      method: 'POST',
      path: '/api/sessions',
      summary: 'Create new session',
      operation: SessionStartDocument,
      errors: runtime,
      status: 201,
      variables: {
        'input.title': fromBody('title'),
        'input.model': fromBody('model'),
        'input.agentId': fromBody('agent_id', undefined, 'marketplace agent of the session'),
      },
      shape: ({ startSession }) => ({ session: session(startSession) }),
    }),
    route({
      method: 'GET',
      path: '/api/sessions/:id',
      summary: 'Get session details',
      operation: SessionByIdDocument,
      variables: { id: fromPath('id') },
      shape: ({ session: s }) => ({ session: session(s) }),
    }),
    route({
      method: 'GET',
      path: '/api/memory',
      summary: 'List all memories',
      operation: MemoryListDocument,
      paged: { connection: (d) => d.memories },
      variables: { agentId: fromQuery('agent_id', undefined, "only this agent's memories") },
      shape: ({ memories }, { page }) => ({
        memories: memories.nodes.map(memory),
        total: memories.totalCount,
        ...page,
      }),
    }),
    route({
      method: 'POST',
      path: '/api/memory',
      summary: 'Store a memory',
      operation: MemoryStoreDocument,
      // `metadata` is accepted and not kept: the memory subgraph has no place for it yet.
      variables: {
        'input.agentId': fromBody('agent_id', undefined, 'the agent that remembers'),
        'input.content': fromBody('content'),
        'input.category': fromBody('category'),
        'input.importance': fromBody('importance'),
        'input.tier': fromBody('tier', tier),
      },
      shape: ({ storeMemory }) => memory(storeMemory),
    }),
    route({
      method: 'POST',
      path: '/api/tasks',
      summary: 'Create a task',
      operation: TaskCreateDocument,
      variables: {
        'input.title': fromBody('title'),
        'input.description': fromBody('description'),
        'input.rewardMinor': fromBody('reward', decimalAmount(2), 'reward in USD'),
        'input.agentId': fromBody('assigned_agent', undefined, 'id of the agent to assign'),
      },
      shape: ({ createTask: t }) => ({
        task_id: t.id,
        status: t.hermesStatus,
        title: t.title,
        priority: 5,
        gaze_required: false,
      }),
    }),
    route({
      method: 'GET',
      path: '/api/tasks',
      summary: 'List tasks (filterable by status and assigned agent)',
      operation: TaskListDocument,
      paged: { connection: (d) => d.tasks },
      variables: {
        statuses: fromQuery('status', oneOf(HERMES_STATUSES)),
        agentId: fromQuery('agent', undefined, 'id of the assigned agent (agt_…)'),
      },
      shape: ({ tasks }) => ({ tasks: tasks.nodes.map(task), total: tasks.totalCount }),
    }),
    // A literal segment outranks `:id`, so stats is not shadowed as it is in the original.
    route({
      method: 'GET',
      path: '/api/tasks/stats',
      summary: 'Task statistics and queue depth',
      operation: TaskStatsDocument,
      shape: ({ taskStats: stats }) => {
        const count = (statuses: string[]) =>
          stats.byStatus.filter((c) => statuses.includes(c.status)).reduce((sum, c) => sum + c.count, 0);
        return {
          total: stats.total,
          by_status: Object.fromEntries(
            Object.entries(HERMES_STATUSES).map(([name, ours]) => [name, count(ours)]),
          ),
          resolved_disputes: count(['RESOLVED']),
          queue_depth: stats.queueDepth,
          median_completion_seconds: stats.medianCompletionSeconds,
          p95_completion_seconds: stats.p95CompletionSeconds,
        };
      },
    }),
    // Literal too, so `/api/tasks/swarm` is never read as the task `swarm`.
    route({
      method: 'POST',
      path: '/api/tasks/swarm',
      summary: 'Decompose a goal into a DAG of subtasks through the upstream LLM (503 without one)',
      operation: TaskSwarmDocument,
      status: 201,
      variables: {
        'input.goal': fromBody('goal'),
        'input.strategy': fromBody('strategy', swarmStrategy),
        'input.agentCount': fromBody('agent_count', undefined, 'the most subtasks, 2 to 20'),
      },
      shape: ({ swarmTask: s }) => ({
        swarm_id: s.parent.id,
        goal: s.goal,
        strategy: lower(s.strategy),
        tasks: s.subtasks.map((t) => ({ task_id: t.id, title: t.title, depends_on: t.dependsOn })),
      }),
    }),
    route({
      method: 'GET',
      path: '/api/tasks/:id',
      summary: 'Get task details',
      operation: TaskByIdDocument,
      variables: { id: fromPath('id') },
      shape: (d) => task(d.task),
    }),
    route({
      method: 'POST',
      path: '/api/tasks/:id/claim',
      summary: 'Claim task for an agent (409 unless Open)',
      operation: TaskClaimDocument,
      // Hermes names the claiming agent; here that name is the agent's id (agt_…).
      variables: {
        id: fromPath('id'),
        agentId: fromBody('agent_name', undefined, 'id of the claiming agent'),
      },
      shape: (d) => task(d.claimTask),
    }),
    route({
      method: 'POST',
      path: '/api/tasks/:id/complete',
      summary: 'Complete with result data (delivered, awaiting validation; 409 unless claimed)',
      operation: TaskDeliverDocument,
      variables: {
        id: fromPath('id'),
        'input.result': fromBody('result', undefined, 'the result, or where to fetch it'),
        'input.summary': fromBody('summary'),
      },
      shape: (d) => task(d.deliverTask),
    }),
    route({
      method: 'DELETE',
      path: '/api/tasks/:id',
      summary: 'Cancel a task (409 once an agent accepted it)',
      operation: TaskCancelDocument,
      variables: { id: fromPath('id') },
      shape: ({ cancelTask: t }) => ({ task_id: t.id, status: t.hermesStatus }),
    }),
    route({
      method: 'GET',
      path: '/api/cron/jobs',
      summary: 'List cron jobs',
      operation: CronJobListDocument,
      errors: runtime,
      paged: { connection: (d) => d.schedules },
      shape: ({ schedules }) => ({ jobs: schedules.nodes.map(cronJob), total: schedules.totalCount }),
    }),
    route({
      method: 'POST',
      path: '/api/cron/jobs',
      summary: 'Create a cron job that posts a task on its schedule (five-field cron, UTC)',
      operation: CronJobCreateDocument,
      errors: runtime,
      status: 201,
      variables: {
        'input.name': fromBody('name'),
        'input.cron': fromBody('schedule', undefined, 'five-field cron expression, UTC'),
        'input.taskTitle': fromBody('title', undefined, 'title of the task each run posts'),
        'input.taskDescription': fromBody('description'),
      },
      shape: (d) => cronJob(d.createSchedule),
    }),
    route({
      method: 'GET',
      path: '/api/cron/jobs/:id',
      summary: 'Cron job detail',
      operation: CronJobByIdDocument,
      errors: runtime,
      variables: { id: fromPath('id') },
      shape: (d) => cronJob(d.schedule),
    }),
    route({
      method: 'DELETE',
      path: '/api/cron/jobs/:id',
      summary: 'Delete a cron job',
      operation: CronJobDeleteDocument,
      errors: runtime,
      variables: { id: fromPath('id') },
      shape: (d) => ({ deleted: true, id: d.deleteSchedule.id }),
    }),
    route({
      method: 'GET',
      path: '/api/cron/runs',
      summary: 'Recent cron runs, newest first',
      operation: CronRunListDocument,
      errors: runtime,
      paged: { connection: (d) => d.scheduleRuns },
      shape: ({ scheduleRuns }) => ({
        runs: scheduleRuns.nodes.map((r) => ({
          id: r.id,
          job_id: r.scheduleId,
          due_at: r.dueAt,
          ran_at: r.ranAt,
          status: lower(r.status),
          task_id: r.taskId,
          error: r.error,
        })),
        total: scheduleRuns.totalCount,
      }),
    }),
    route({
      method: 'GET',
      path: '/api/agents',
      summary: 'List agent instances',
      operation: AgentListDocument,
      errors: runtime,
      paged: { connection: (d) => d.agents },
      shape: ({ agents }) => ({
        agents: agents.nodes.map((a) => ({
          id: a.id,
          name: a.name,
          ticker: a.ticker,
          description: a.description,
          status: lower(a.status),
          created_at: a.createdAt,
        })),
        total: agents.totalCount,
      }),
    }),
    route({
      method: 'GET',
      path: '/api/channels/dead-letter',
      summary: 'Dead letter queue: webhook deliveries that failed every attempt',
      operation: DeadLetterListDocument,
      errors: runtime,
      paged: { connection: (d) => d.deadLetters },
      shape: ({ deadLetters }) => ({
        dead_letters: deadLetters.nodes.map(deadLetter),
        total: deadLetters.totalCount,
      }),
    }),
    route({
      method: 'POST',
      path: '/api/channels/dead-letter/:id/replay',
      summary: 'Replay a dead letter (queued again, same webhook-id)',
      operation: DeadLetterReplayDocument,
      errors: runtime,
      variables: { id: fromPath('id') },
      shape: ({ replayDelivery }) => ({ replayed: true, ...deadLetter(replayDelivery) }),
    }),
    route({
      method: 'GET',
      path: '/api/approvals',
      summary: 'Pending approval requests: tasks nobody may claim until approved',
      operation: ApprovalListDocument,
      errors: runtime,
      paged: { connection: (d) => d.approvals },
      shape: ({ approvals }) => ({ approvals: approvals.nodes.map(approval), total: approvals.totalCount }),
    }),
    route({
      method: 'POST',
      path: '/api/approvals/:id/approve',
      summary: 'Approve a pending request: its task may be claimed',
      operation: ApprovalApproveDocument,
      errors: runtime,
      variables: { id: fromPath('id') },
      shape: (d) => approval(d.approveRequest),
    }),
    route({
      method: 'POST',
      path: '/api/approvals/:id/deny',
      summary: 'Deny a pending request: its task is cancelled',
      operation: ApprovalDenyDocument,
      errors: runtime,
      variables: { id: fromPath('id'), reason: fromBody('reason', undefined, 'why it is denied') },
      shape: (d) => approval(d.denyRequest),
    }),
    route({
      method: 'GET',
      path: '/api/wallet',
      summary: 'Wallet overview: a balance per asset',
      operation: MyLedgerAccountsDocument,
      shape: ({ ledgerAccounts }) => ({
        balances: ledgerAccounts.nodes.map((a) => ({
          account_id: a.id,
          asset: a.asset,
          balance: minorToNumber(a.balanceMinor, decimalsOf(a.asset)),
          balance_minor: a.balanceMinor,
        })),
        total: ledgerAccounts.totalCount,
      }),
    }),
    route({
      method: 'GET',
      path: '/api/wallet/balance',
      summary: 'USDC + credit balance',
      operation: MyLedgerAccountsDocument,
      errors: runtime,
      // Credits are the USD balance; USDC its own asset. An account not opened yet holds 0.
      shape: ({ ledgerAccounts }) => ({
        usdc: balance(ledgerAccounts.nodes, 'USDC'),
        credits: balance(ledgerAccounts.nodes, 'USD'),
      }),
    }),
  ],
  sockets: [
    // 002's /ws pushes runtime events after {"type":"connected"}; task changes are the runtime
    // events the platform has today (the scheduler notifications of the original).
    socket({
      path: '/ws',
      summary: 'Real-time event push: task created/updated',
      operation: TaskEventStreamDocument,
      greeting: { type: 'connected' },
      errors: runtime,
      variables: {
        agentId: fromQuery('agent_id', undefined, 'only tasks of this agent'),
        taskId: fromQuery('task_id', undefined, 'only this task'),
      },
      frame: ({ taskEvents: e }) => ({
        type: e.kind === 'CREATED' ? 'task.created' : 'task.updated',
        task: task(e.task),
        at: e.at,
      }),
    }),
  ],
};
