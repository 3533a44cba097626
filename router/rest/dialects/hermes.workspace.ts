/**
 * What Hermes Workspace (001's web client) calls besides 001's documented routes, in the shapes
 * it parses: session rename, search, fork, send without streaming and runtime; skill categories,
 * task assignees, jobs (the tasks subgraph's cron schedules), MCP servers, slash commands and the
 * detailed health and status its dashboard reads. Rows of the hermes dialect, answering
 * `{"detail": …}` like 001.
 */
import {
  ChatCompleteDocument,
  CronJobByIdDocument,
  CronJobListDocument,
  GatewayStatusDocument,
  RouterPingDocument,
  SessionForkDocument,
  SessionRenameDocument,
  SessionRuntimeDocument,
  SessionSearchDocument,
  SkillListDocument,
  TaskListDocument,
  type GatewayStatusQuery,
  type ScheduleFieldsFragment,
} from '../generated/graphql';
import {
  epochSeconds,
  fixed,
  fromBody,
  fromHeader,
  fromPath,
  fromQuery,
  integer,
  lower,
  required,
  withDefault,
} from '../mapping';
import { route, type ShapeContext } from '../types';
import { failedTurn, openAiUsage } from '../chat-shapes';
import { session } from './hermes';

/** A schedule as Workspace's jobs screen reads a job: each run posts the task its prompt names. */
const job = (j: ScheduleFieldsFragment) => ({
  id: j.id,
  name: j.name,
  prompt: j.taskDescription || j.taskTitle,
  schedule: { kind: 'cron', expr: j.cron },
  schedule_display: j.cron,
  enabled: j.enabled,
  state: j.enabled ? 'scheduled' : 'paused',
  next_run_at: j.nextRunAt,
  last_run_at: j.lastRunAt,
  created_at: j.createdAt,
  action: { type: 'create_task', title: j.taskTitle, description: j.taskDescription },
});

/** The platform as the dashboard's status reads it: running while the upstream LLM answers. */
const status = (g: GatewayStatusQuery['gatewayStatus'], { server }: ShapeContext) => ({
  version: server.version,
  gateway_state: g.status === 'connected' ? 'running' : 'disconnected',
  mode: lower(g.mode),
  model: g.model,
  active_agents: g.activeTurns,
  uptime_seconds: server.uptimeSeconds,
  updated_at: g.probedAt,
  // No messaging platforms (Telegram, …) are connected to this gateway.
  gateway_platforms: {},
});

/** How many tasks' workers the assignee list looks through. */
const ASSIGNEE_TASKS = 100;

export const workspaceRoutes = [
  route({
    method: 'PATCH',
    path: '/api/sessions/:id',
    summary: 'Rename a session (Workspace titles new chats this way)',
    operation: SessionRenameDocument,
    variables: { id: fromPath('id'), title: required(fromBody('title')) },
    shape: ({ renameSession }) => ({ session: session(renameSession) }),
  }),
  // A literal segment outranks `:id`, so this is never read as the session `search`.
  route({
    method: 'GET',
    path: '/api/sessions/search',
    summary: 'Search your sessions: titles and messages containing q (any case), newest first',
    operation: SessionSearchDocument,
    variables: {
      query: required(fromQuery('q', undefined, 'the text to find')),
      first: withDefault(fromQuery('limit', integer(1, 50), 'most results, 1 to 50'), 20),
    },
    shape: ({ searchSessions }, { input }) => ({
      query: input.query.get('q'),
      count: searchSessions.length,
      results: searchSessions.map((hit) => ({
        session_id: hit.session.id,
        id: hit.messageId ?? hit.session.id,
        title: hit.session.title,
        snippet: hit.snippet,
        role: hit.role && lower(hit.role),
        model: hit.session.model,
        source: hit.messageId ? 'message' : 'title',
        session_started: epochSeconds(hit.session.startedAt),
        timestamp: epochSeconds(hit.at),
      })),
    }),
  }),
  route({
    method: 'POST',
    path: '/api/sessions/:id/chat',
    summary: 'Send a message into a session and wait for the whole answer (no streaming)',
    operation: ChatCompleteDocument,
    variables: {
      'input.idempotencyKey': fromHeader('Idempotency-Key'),
      'input.sessionId': fromPath('id'),
      'input.content': required(fromBody('message')),
      'input.model': fromBody('model'),
      'input.temperature': fromBody('temperature'),
      'input.maxTokens': fromBody('max_tokens'),
    },
    failure: ({ chat }) => failedTurn(chat),
    shape: ({ chat: t }) => ({
      session_id: t.sessionId,
      run_id: t.id,
      message_id: t.assistantMessage?.id ?? null,
      role: 'assistant',
      content: t.assistantMessage?.content ?? '',
      model: t.model,
      status: 'complete',
      usage: openAiUsage(t),
    }),
  }),
  route({
    method: 'POST',
    path: '/api/sessions/:id/fork',
    summary: 'Fork a session: a new one holding a copy of its messages',
    operation: SessionForkDocument,
    status: 201,
    variables: { id: fromPath('id') },
    shape: ({ forkSession }, { input }) => ({ session: session(forkSession), forked_from: input.params.id }),
  }),
  route({
    method: 'GET',
    path: '/api/sessions/:id/runtime',
    summary: "A session's model and the context its latest request carried (prompt tokens)",
    operation: SessionRuntimeDocument,
    variables: { id: fromPath('id') },
    shape: ({ session: s, gatewayStatus: g }) => {
      const [last] = s.turns.nodes;
      // The context window of a model is not known to the platform, so context_length is left out.
      return {
        session_id: s.id,
        model: last?.model ?? (s.model === 'default' ? g.model : s.model),
        provider: last?.provider ?? g.defaultProvider,
        context_tokens: last?.promptTokens ?? 0,
        prompt_tokens: last?.promptTokens ?? 0,
        input_tokens: s.inputTokens,
        output_tokens: s.outputTokens,
        total_tokens: s.inputTokens + s.outputTokens,
        running: last?.status === 'RUNNING',
      };
    },
  }),
  route({
    method: 'GET',
    path: '/api/skills/categories',
    summary: 'Skill categories and how many skills each holds',
    operation: SkillListDocument,
    shape: ({ skills }) => {
      const counts = new Map<string, number>();
      for (const s of skills) counts.set(s.category, (counts.get(s.category) ?? 0) + 1);
      const categories = [...counts]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, count]) => ({ name, count }));
      return { categories, total: categories.length };
    },
  }),
  route({
    method: 'GET',
    path: '/api/tasks/assignees',
    summary: `Workers named on your latest ${ASSIGNEE_TASKS} tasks (Workspace's assignee picker)`,
    operation: TaskListDocument,
    variables: { first: fixed(ASSIGNEE_TASKS) },
    shape: ({ tasks }) => {
      const names = new Set<string>();
      for (const t of tasks.nodes) {
        const worker = t.agentName ?? t.agent?.id;
        if (worker) names.add(worker);
      }
      const assignees = [...names].sort().map((id) => ({ id, label: id, isHuman: false }));
      return { assignees, total: assignees.length };
    },
  }),
  route({
    method: 'GET',
    path: '/api/jobs',
    summary: 'Scheduled jobs: the cron schedules that post tasks (as /api/cron/jobs), newest first',
    operation: CronJobListDocument,
    paged: { connection: (d) => d.schedules },
    shape: ({ schedules }, { page }) => ({
      jobs: schedules.nodes.map(job),
      total: schedules.totalCount,
      ...page,
    }),
  }),
  route({
    method: 'GET',
    path: '/api/jobs/:id',
    summary: 'One scheduled job',
    operation: CronJobByIdDocument,
    variables: { id: fromPath('id') },
    shape: ({ schedule }) => ({ job: job(schedule), ...job(schedule) }),
  }),
  // MCP clients are not part of this platform yet (Known limits): an honest empty list.
  route({
    method: 'GET',
    path: '/api/mcp',
    summary: 'MCP servers the agent is connected to (none yet)',
    operation: RouterPingDocument,
    shape: () => ({ servers: [], total: 0 }),
  }),
  route({
    method: 'GET',
    path: '/v1/commands',
    summary: 'Slash commands the gateway runs itself (none: every message goes to the model)',
    operation: RouterPingDocument,
    shape: () => ({ object: 'list', commands: [], total: 0 }),
  }),
  route({
    method: 'GET',
    path: '/api/status',
    summary: 'Gateway status as the Workspace dashboard reads it (version, state, active agents)',
    operation: GatewayStatusDocument,
    public: true,
    shape: ({ gatewayStatus }, context) => status(gatewayStatus, context),
  }),
  route({
    method: 'GET',
    path: '/health/detailed',
    summary: 'Health with the upstream LLM and the answers streaming now (active_agents)',
    operation: GatewayStatusDocument,
    public: true,
    shape: ({ gatewayStatus: g }, context) => ({
      status: 'ok',
      ...status(g, context),
      upstream: { status: g.status, mode: lower(g.mode), models: g.models, probed_at: g.probedAt },
    }),
  }),
];
