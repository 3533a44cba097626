/**
 * hermes: the Hermes OPTX API (001), the OPTX platform's bridge routes (000) and Hermes Workspace's
 * reads. They answer `{"detail": …}` and 422 for invalid input (FastAPI). The agent runtime (002),
 * which also lives under `/api`, is a dialect of its own (runtime.ts) at its own mount.
 */
import {
  ChatStreamDocument,
  GatewayStatusDocument,
  SessionByIdDocument,
  SessionDeleteDocument,
  SessionListDocument,
  SessionMessagesDocument,
  SessionStartDocument,
  TaskByIdDocument,
  TaskCancelDocument,
  TaskClaimDocument,
  TaskCreateDocument,
  TaskDeliverDocument,
  TaskListDocument,
  TaskStatsDocument,
  TaskSwarmDocument,
  WalletOverviewDocument,
  type ChatStreamSubscription,
  type MessageFieldsFragment,
  type SessionFieldsFragment,
  type TaskFieldsFragment,
  type TaskStatus,
} from '../generated/graphql';
import {
  GATEWAY_MODES,
  openAiChat,
  openAiStream,
  openAiUsage,
  upstreamProblem,
  idempotency,
  type ChatEvent,
} from '../chat-shapes';
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
  required,
} from '../mapping';
import {
  route,
  type Dialect,
  type ErrorStyle,
  type RouteInput,
  type ShapeContext,
  type SseEvent,
  type StreamContext,
} from '../types';
import { configRoutes } from './hermes.config';
import { escrowRoutes } from './hermes.escrow';
import { gazeRoutes } from './hermes.gaze';
import { memoryRoutes } from './hermes.memory';
import { joeSocket } from './hermes.joe';
import { openAiRelayRoutes, openAiRoutes } from './hermes.openai';
import { skillRoutes } from './hermes.skills';
import { tempoRoutes } from './hermes.tempo';
import { workspaceRoutes } from './hermes.workspace';

const detail: ErrorStyle = {
  invalidInput: 422,
  wrongContentType: 415,
  body: ({ message }) => ({ detail: message }),
};

/** 001's chat stream body: `{message, model?, temperature, max_tokens}`. */
const hermesChat = {
  ...idempotency,
  'input.content': required(fromBody('message')),
  'input.model': fromBody('model'),
  // 001's defaults (temperature 0.7, max_tokens 4096) are the settings store's model.temperature
  // and model.max_tokens, so an admin can change them for every chat that names none.
  'input.temperature': fromBody('temperature'),
  'input.maxTokens': fromBody('max_tokens'),
};

export const message = (m: MessageFieldsFragment) => ({
  id: m.id,
  session_id: m.sessionId,
  role: lower(m.role),
  content: m.content,
  tokens: m.tokens,
  complete: m.complete,
  created_at: m.createdAt,
  timestamp: epochSeconds(m.createdAt),
});

/** camelCase keys as snake_case: `chatStream` → `chat_stream`. */
const snakeKeys = (object: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(object).map(([key, value]) => [
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      value,
    ]),
  );

/** The state of one 001 chat stream: whether it opened its session, and the answer so far. */
interface HermesStream {
  created: boolean;
  answer: string;
}

/**
 * One chat event in both vocabularies a Hermes client may speak, 001's first on each step:
 * `session`, `content`, `done`, `error` (JettChat) and `run.started`, `message.started`,
 * `assistant.delta`, `assistant.completed`, `error`, `run.completed` (Hermes Workspace, which
 * waits for run.completed). The run is the turn.
 */
function hermesEvents(e: ChatEvent, state: HermesStream): SseEvent[] {
  const run = { session_id: e.sessionId, run_id: e.turnId };
  switch (e.kind) {
    case 'STARTED':
      return [
        {
          event: 'session',
          data: { session_id: e.sessionId, status: state.created ? 'created' : 'streaming' },
        },
        { event: 'run.started', data: run },
        { event: 'message.started', data: { ...run, role: 'assistant' } },
      ];
    case 'TOKEN':
      state.answer += e.delta ?? '';
      return [
        { event: 'content', data: { content: e.delta, session_id: e.sessionId } },
        { event: 'assistant.delta', data: { ...run, delta: e.delta } },
      ];
    case 'COMPLETED':
      return [
        { event: 'done', data: { session_id: e.sessionId, status: 'complete' } },
        { event: 'assistant.completed', data: { ...run, content: state.answer } },
        {
          event: 'run.completed',
          data: { ...run, status: 'complete', usage: e.usage && openAiUsage(e.usage) },
        },
      ];
    case 'ERROR': {
      const { code, message } = upstreamProblem(e.error?.code ?? 'UPSTREAM_ERROR', e.error?.message ?? null);
      return [
        // Workspace closes on the first error and reads `message` (or `error.message`) from it.
        { event: 'error', data: { error: message, message, code, ...run } },
        { event: 'error', data: { ...run, error: { message, code } } },
        { event: 'run.completed', data: { ...run, status: 'error' } },
      ];
    }
  }
}

const always = () => true;

/**
 * A chat answered as SSE whatever the Accept; the response waits for the first event (STARTED,
 * sent at once), so a refusal (closed session, no upstream, …) is an ordinary HTTP error.
 * `created`: whether the request opens a new session.
 */
const hermesStream = (created: (input: RouteInput) => boolean) => ({
  when: always,
  awaitFirst: true,
  init: ({ input }: ShapeContext): HermesStream => ({ created: created(input), answer: '' }),
  event: ({ chatStream: e }: ChatStreamSubscription, { state }: StreamContext<HermesStream>) =>
    hermesEvents(e, state),
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
export const session = (s: SessionFieldsFragment) => ({
  id: s.id,
  title: s.title,
  model: s.model,
  status: lower(s.status),
  agent_id: s.agent?.id ?? null,
  started_at: epochSeconds(s.startedAt),
  ended_at: epochSeconds(s.endedAt),
  message_count: s.messageCount,
  input_tokens: s.inputTokens,
  output_tokens: s.outputTokens,
});

/** Where Workspace's task board shows a task of each Hermes status. */
const BOARD_COLUMNS: Record<string, string> = {
  Open: 'todo',
  InProgress: 'in_progress',
  PendingValidation: 'review',
  Completed: 'done',
  Failed: 'blocked',
  Cancelled: 'deleted',
};

export const task = (t: TaskFieldsFragment) => ({
  task_id: t.id,
  title: t.title,
  description: t.description,
  status: t.hermesStatus,
  reward: minorToNumber(t.rewardMinor, decimalsOf(t.asset)),
  asset: t.asset,
  // 001 names workers freely; a name that is an agent id is also linked to that agent.
  assigned_agent: t.agentName ?? t.agent?.id ?? null,
  // Workspace's board reads these.
  assignee: t.agentName ?? t.agent?.id ?? null,
  column: BOARD_COLUMNS[t.hermesStatus] ?? 'todo',
  created_by: t.creator.id,
  created_at: t.createdAt,
  updated_at: t.updatedAt,
  gaze_required: t.gazeRequired,
  // Not stored by the tasks subgraph yet: the documented defaults, true of every task today.
  priority: 5,
  capabilities: [],
  depends_on: [],
});

const swarmStrategy = oneOf({ parallel: 'PARALLEL', sequential: 'SEQUENTIAL', dag: 'DAG' });

export const hermes: Dialect = {
  name: 'hermes',
  title: 'Hermes OPTX API and OPTX platform bridge',
  references: ['000', '001'],
  mountSetting: 'REST_MOUNT_HERMES',
  payable: true,
  owns: ['/api', '/ws/joe', '/v1', '/health/detailed'],
  // The platform's own health, with 001's upstream and 000's capabilities (router/health.ts).
  routerRoutes: ['GET /health'],
  errors: detail,
  routes: [
    route({
      method: 'GET',
      path: '/api/gateway-status',
      summary: 'Feature flags and connection mode of the upstream LLM, as last probed',
      operation: GatewayStatusDocument,
      public: true,
      shape: ({ gatewayStatus: g }) => ({
        status: g.status,
        mode: GATEWAY_MODES[g.mode],
        model: g.model,
        version: g.version,
        features: snakeKeys(g.features),
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
    // Hermes Workspace creates its sessions here.
    route({
      method: 'POST',
      path: '/api/sessions',
      summary: 'Create new session',
      operation: SessionStartDocument,
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
      method: 'DELETE',
      path: '/api/sessions/:id',
      summary: 'Delete a session (closed, then not found; its metered usage stays billed)',
      operation: SessionDeleteDocument,
      variables: { id: fromPath('id') },
      shape: ({ deleteSession }) => ({ deleted: true, session_id: deleteSession.id }),
    }),
    // The API pages newest first; offset counts back from the newest message, and each page is
    // turned oldest first, the order a chat shows it in.
    route({
      method: 'GET',
      path: '/api/sessions/:id/messages',
      summary: 'Session messages: the latest `limit` after skipping `offset`, oldest first',
      operation: SessionMessagesDocument,
      variables: { id: fromPath('id') },
      paged: { connection: (d) => d.session.messages },
      // `items` too, each with its epoch-seconds `timestamp`: Workspace reads history that way.
      shape: ({ session: s }) => {
        const list = s.messages.nodes.map(message).reverse();
        return { messages: list, items: list, session_id: s.id, total: s.messages.totalCount };
      },
    }),
    route({
      method: 'POST',
      path: '/api/sessions/new/chat/stream',
      summary: 'Create a session and stream the answer to its first message (SSE, 001 and Workspace events)',
      operation: ChatStreamDocument,
      variables: hermesChat,
      stream: hermesStream(always),
    }),
    route({
      method: 'POST',
      path: '/api/sessions/:id/chat/stream',
      summary: 'Send a message into a session and stream the answer (SSE, 001 and Workspace events)',
      operation: ChatStreamDocument,
      variables: { ...hermesChat, 'input.sessionId': fromPath('id') },
      stream: hermesStream(() => false),
    }),
    route({
      method: 'POST',
      path: '/api/chat/completions/stream',
      summary: 'OpenAI-compatible SSE proxy: the conversation answered as chat.completion.chunk events',
      operation: ChatStreamDocument,
      variables: openAiChat,
      stream: openAiStream(always),
    }),
    route({
      method: 'POST',
      path: '/api/tasks',
      summary: 'Create a task',
      operation: TaskCreateDocument,
      variables: {
        'input.title': fromBody('title'),
        'input.description': fromBody('description'),
        'input.rewardMinor': fromBody('reward', decimalAmount(decimalsOf('USD')), 'reward in USD'),
        'input.agentName': fromBody('assigned_agent', undefined, 'name of the worker (or an agent id)'),
        'input.gazeRequired': fromBody(
          'gaze_required',
          undefined,
          'claimable only by an account with a verified gaze attestation',
        ),
      },
      shape: ({ createTask: t }) => ({
        task_id: t.id,
        status: t.hermesStatus,
        title: t.title,
        priority: 5,
        gaze_required: t.gazeRequired,
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
        worker: fromQuery('agent', undefined, 'name of the assigned worker, or an agent id'),
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
      // Hermes names the claiming worker freely; an agent id there also links the agent.
      variables: {
        id: fromPath('id'),
        agentName: fromBody('agent_name', undefined, 'name of the claiming worker (or an agent id)'),
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
      path: '/api/wallet',
      summary: 'Wallet overview: a balance per asset, and where to deposit',
      operation: WalletOverviewDocument,
      // The assets the account holds (has opened a ledger account in), as before deposits existed.
      shape: ({ walletBalances, depositAddress }) => {
        const held = walletBalances.filter((b) => b.account);
        return {
          balances: held.map((b) => ({
            account_id: b.account!.id,
            asset: b.asset,
            balance: minorToNumber(b.availableMinor, b.decimals),
            balance_minor: b.availableMinor,
            pending: minorToNumber(b.pendingDebitsMinor, b.decimals),
            decimals: b.decimals,
          })),
          total: held.length,
          deposit_address: depositAddress.address,
        };
      },
    }),
    route({
      method: 'GET',
      path: '/api/wallet/balances',
      summary: 'SOL and token balances (from the ledger)',
      operation: WalletOverviewDocument,
      shape: ({ walletBalances }) => ({
        sol: minorToNumber(walletBalances.find((b) => b.asset === 'SOL')?.availableMinor ?? '0', 9),
        tokens: walletBalances
          .filter((b) => b.asset !== 'SOL')
          .map((b) => ({
            symbol: b.asset,
            balance: minorToNumber(b.availableMinor, b.decimals),
            decimals: b.decimals,
          })),
      }),
    }),
    ...openAiRoutes,
    ...tempoRoutes,
    ...escrowRoutes,
    ...gazeRoutes,
    ...skillRoutes,
    ...workspaceRoutes,
    ...openAiRelayRoutes,
    ...configRoutes,
    ...memoryRoutes,
  ],
  sockets: [joeSocket],
};
