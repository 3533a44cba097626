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
  BreakerResetDocument,
  ChatCompleteDocument,
  ChatStreamDocument,
  CronJobByIdDocument,
  CronJobCreateDocument,
  CronJobDeleteDocument,
  CronJobListDocument,
  CronRunListDocument,
  DeadLetterListDocument,
  DeadLetterReplayDocument,
  FeedbackCreateDocument,
  FeedbackUpdateDocument,
  GatewayStatusDocument,
  MessageSendDocument,
  WalletActivityListDocument,
  WalletDepositAddressDocument,
  WalletOverviewDocument,
  ProviderKeyRemoveDocument,
  ProviderKeySetDocument,
  ProviderListDocument,
  RouterPingDocument,
  SessionByIdDocument,
  SessionDeleteDocument,
  SessionFeedbackDocument,
  SessionListDocument,
  SessionMessagesDocument,
  SessionStartDocument,
  SessionTurnsDocument,
  TaskByIdDocument,
  TaskCancelDocument,
  TaskClaimDocument,
  TaskCreateDocument,
  TaskDeliverDocument,
  TaskEventStreamDocument,
  TaskListDocument,
  TaskStatsDocument,
  TaskSwarmDocument,
  TurnByIdDocument,
  TurnListDocument,
  type ApprovalFieldsFragment,
  type ChatEventFieldsFragment,
  type ChatStreamSubscription,
  type FeedbackFieldsFragment,
  type GatewayMode,
  type MessageFieldsFragment,
  type MessageRole,
  type WalletOverviewQuery,
  type ProviderFieldsFragment,
  type SessionFieldsFragment,
  type TaskFieldsFragment,
  type ScheduleFieldsFragment,
  type TaskStatus,
  type TurnFieldsFragment,
  type WebhookDeliveryRestFieldsFragment,
} from '../generated/graphql';
import {
  decimalAmount,
  decimalsOf,
  derived,
  epochSeconds,
  fixed,
  fromBody,
  fromBodyAs,
  fromHeader,
  fromPath,
  fromQuery,
  integer,
  lower,
  minorToNumber,
  oneOf,
  required,
} from '../mapping';
import { activityAmount, activityType, movementAmount, movementStatus } from '../wallet-shapes';
import {
  InputError,
  route,
  socket,
  type Converter,
  type Dialect,
  type ErrorStyle,
  type Problem,
  type RouteInput,
  type ShapeContext,
  type SseEvent,
  type StreamContext,
} from '../types';
import { a2aRoutes } from './hermes.a2a';
import { configRoutes } from './hermes.config';
import { escrowRoutes } from './hermes.escrow';
import { gazeRoutes } from './hermes.gaze';
import { memoryRoutes } from './hermes.memory';
import { observatoryRoutes } from './hermes.observatory';
import { runtimeAgentRoutes } from './hermes.runtime-agents';
import { skillRoutes } from './hermes.skills';
import { tempoRoutes } from './hermes.tempo';
import { joeSocket } from './hermes.joe';
import { openai, openAiRelayRoutes } from './hermes.openai';
import { runtime } from './hermes.runtime-errors';
import { workspaceRoutes } from './hermes.workspace';

const detail: ErrorStyle = {
  invalidInput: 422,
  wrongContentType: 415,
  body: ({ message }) => ({ detail: message }),
};

// ── Chat ───────────────────────────────────────────────────────────────────────────────────────

const OPENAI_ROLES: Record<string, MessageRole> = {
  system: 'SYSTEM',
  developer: 'SYSTEM',
  user: 'USER',
  assistant: 'ASSISTANT',
};

/** The text of an OpenAI message's content: a string, or a list of parts whose text parts count. */
function textOf(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (content === null) return '';
  if (!Array.isArray(content)) return undefined;
  const parts = content as { type?: unknown; text?: unknown }[];
  if (!parts.every((part) => part?.type !== 'text' || typeof part.text === 'string')) return undefined;
  return parts
    .filter((part) => part?.type === 'text')
    .map((part) => part.text)
    .join('');
}

/** OpenAI's `messages` (the whole conversation) as the GraphQL ChatMessageInput list. */
const conversation: Converter = {
  schema: {
    type: 'array',
    items: {
      type: 'object',
      properties: {
        role: { type: 'string', enum: Object.keys(OPENAI_ROLES) },
        content: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }] },
      },
      required: ['role', 'content'],
    },
  },
  convert: (value) => {
    if (!Array.isArray(value)) throw new InputError('must be a list of messages');
    return value.map((message: { role?: unknown; content?: unknown } | null, index) => {
      const role =
        typeof message?.role === 'string' && Object.hasOwn(OPENAI_ROLES, message.role)
          ? OPENAI_ROLES[message.role]
          : undefined;
      if (!role)
        throw new InputError(`item ${index} needs a role of ${Object.keys(OPENAI_ROLES).join(', ')}`);
      const content = textOf(message!.content);
      if (content === undefined)
        throw new InputError(`item ${index} needs a content: a string or a list of text parts`);
      return { role, content };
    });
  },
};

/** The IETF Idempotency-Key header: a chat sent again with the same key is answered once. */
const idempotency = { 'input.idempotencyKey': fromHeader('Idempotency-Key') };

/**
 * An OpenAI-style request body (`messages`, `model`, sampling) as a one-shot chat; with Hermes'
 * X-Hermes-Session-Id (or the older X-Claude-Session-Id) it goes on in that conversation instead.
 */
const openAiChat = {
  ...idempotency,
  'input.sessionKey': derived(
    ({ headers }) => headers['x-hermes-session-id'] ?? headers['x-claude-session-id'],
    'X-Hermes-Session-Id',
  ),
  'input.messages': required(
    fromBody('messages', conversation, 'the whole conversation, last from the user'),
  ),
  'input.model': fromBody('model'),
  'input.temperature': fromBody('temperature'),
  'input.maxTokens': fromBodyAs(['max_tokens', 'max_completion_tokens']),
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

type Turn = TurnFieldsFragment;
type ChatEvent = ChatEventFieldsFragment;

/** An answer the upstream failed: 503 when no upstream could be reached, else 502. */
const upstreamProblem = (code: string, message: string | null): Problem => ({
  status: code === 'UPSTREAM_UNAVAILABLE' ? 503 : 502,
  code,
  message: message ?? 'the upstream LLM failed',
});

/** A turn that ended with an upstream error: the operation succeeded, the request did not. */
export const failedTurn = ({ errorCode, errorMessage }: Turn) =>
  errorCode ? upstreamProblem(errorCode, errorMessage) : undefined;

/** OpenAI's finish reason: the answer stopped at the token limit, or by itself. */
const finishReason = (completionTokens: number, maxTokens: unknown) =>
  typeof maxTokens === 'number' && completionTokens >= maxTokens ? 'length' : 'stop';

export const openAiUsage = (u: { promptTokens: number; completionTokens: number }) => ({
  prompt_tokens: u.promptTokens,
  completion_tokens: u.completionTokens,
  total_tokens: u.promptTokens + u.completionTokens,
});

const MICRO_USD_DECIMALS = 6;

/** A turn (a message and its answer) in 002's snake_case. */
const turn = (t: Turn) => ({
  id: t.id,
  session_id: t.sessionId,
  status: lower(t.status),
  provider: t.provider,
  model: t.model,
  model_reason: t.modelReason,
  parameters: { temperature: t.parameters.temperature, max_tokens: t.parameters.maxTokens },
  user_message: { id: t.userMessage.id, content: t.userMessage.content },
  assistant_message: t.assistantMessage && {
    id: t.assistantMessage.id,
    content: t.assistantMessage.content,
    complete: t.assistantMessage.complete,
  },
  usage: openAiUsage(t),
  cost_usd: minorToNumber(t.costMicroUsd, MICRO_USD_DECIMALS),
  latency_ms: t.latencyMs,
  first_token_latency_ms: t.firstTokenLatencyMs,
  error: t.errorCode ? { code: t.errorCode, message: t.errorMessage } : null,
  created_at: t.createdAt,
  finished_at: t.finishedAt,
});

const message = (m: MessageFieldsFragment) => ({
  id: m.id,
  session_id: m.sessionId,
  role: lower(m.role),
  content: m.content,
  tokens: m.tokens,
  complete: m.complete,
  created_at: m.createdAt,
  timestamp: epochSeconds(m.createdAt),
});

const feedback = (f: FeedbackFieldsFragment) => ({
  id: f.id,
  turn_id: f.turnId,
  session_id: f.sessionId,
  grade: f.grade,
  comment: f.comment,
  created_at: f.createdAt,
  updated_at: f.updatedAt,
});

/** A provider and its circuit breaker; its key is never part of it, only whether one is set. */
const provider = (p: ProviderFieldsFragment) => ({
  name: p.name,
  state: lower(p.state),
  consecutive_failures: p.consecutiveFailures,
  last_error: p.lastError,
  retry_at: p.retryAt,
  models: p.models,
  key_set: p.keySet,
  key_source: p.keySource,
});

const GATEWAY_MODES: Record<GatewayMode, string> = {
  ENHANCED: 'enhanced-hermes',
  PORTABLE: 'portable',
  DISCONNECTED: 'disconnected',
};

/** camelCase keys as snake_case: `chatStream` → `chat_stream`. */
const snakeKeys = (object: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(object).map(([key, value]) => [
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      value,
    ]),
  );

/** The default model first, then the others the upstream lists. */
const modelIds = (g: { model: string; models: string[] }) => [...new Set([g.model, ...g.models])];

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

/** What every chunk of one OpenAI stream repeats. */
interface OpenAiStream {
  created: number;
  /** ChatEvent does not carry the model: the requested one, else `default` (the platform's). */
  model: string;
  maxTokens: unknown;
  includeUsage: boolean;
}

const DONE: SseEvent = { data: '[DONE]', raw: true };

/** One chat event as OpenAI's `chat.completion.chunk`s (no event names), ending with `[DONE]`. */
function openAiChunks(e: ChatEvent, state: OpenAiStream): SseEvent[] {
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): SseEvent => ({
    data: {
      id: e.turnId,
      object: 'chat.completion.chunk',
      created: state.created,
      model: state.model,
      choices,
      ...extra,
    },
  });
  const choice = (delta: Record<string, unknown>, finish: string | null = null) => [
    { index: 0, delta, finish_reason: finish },
  ];
  switch (e.kind) {
    case 'STARTED':
      return [chunk(choice({ role: 'assistant', content: '' }))];
    case 'TOKEN':
      return [chunk(choice({ content: e.delta ?? '' }))];
    case 'COMPLETED': {
      const usage = e.usage && openAiUsage(e.usage);
      return [
        chunk(choice({}, finishReason(usage?.completion_tokens ?? 0, state.maxTokens))),
        ...(state.includeUsage && usage ? [chunk([], { usage })] : []),
        DONE,
      ];
    }
    case 'ERROR': {
      const error = e.error ?? { code: 'UPSTREAM_ERROR', message: null };
      return [{ data: openai.body(upstreamProblem(error.code, error.message)) }, DONE];
    }
  }
}

/** 002's agent message body: `{message, session_id?, model?}`. */
const agentMessage = {
  ...idempotency,
  'input.content': required(fromBody('message')),
  'input.sessionId': fromBody('session_id', undefined, 'continue this session; a new one without it'),
  'input.model': fromBody('model'),
};

/** 002's feedback body: `{grade: 1..5, comment}` for the turn in the path. */
const feedbackBody = {
  turnId: fromPath('id'),
  'input.grade': fromBody('grade', integer(1, 5)),
  'input.comment': fromBody('comment'),
};

/** 002's routes below a turn read the turn in the path (404 when it is not the caller's). */
const turnById = { operation: TurnByIdDocument, errors: runtime, variables: { id: fromPath('id') } };

/** An OpenAI stream, answered when `when` says the request wants one. */
const openAiStream = (when: (input: RouteInput) => boolean) => ({
  when,
  awaitFirst: true,
  init: ({ input: { body } }: ShapeContext): OpenAiStream => ({
    created: Math.floor(Date.now() / 1000),
    model: typeof body.model === 'string' ? body.model : 'default',
    maxTokens: body.max_tokens ?? body.max_completion_tokens,
    includeUsage: (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true,
  }),
  event: ({ chatStream: e }: ChatStreamSubscription, { state }: StreamContext<OpenAiStream>) =>
    openAiChunks(e, state),
});

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

const task = (t: TaskFieldsFragment) => ({
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

/** A balance as 002 shows it: a JSON number of the asset; an account not opened yet holds 0. */
const balanceOf = (balances: WalletOverviewQuery['walletBalances'], asset: string) => {
  const found = balances.find((b) => b.asset === asset);
  return found ? minorToNumber(found.availableMinor, found.decimals) : 0;
};

const swarmStrategy = oneOf({ parallel: 'PARALLEL', sequential: 'SEQUENTIAL', dag: 'DAG' });

export const hermes: Dialect = {
  name: 'hermes',
  title: 'Hermes OPTX API, OPTX platform bridge and agent runtime',
  references: ['000', '001', '002'],
  mountSetting: 'REST_MOUNT_HERMES',
  payable: true,
  owns: ['/api', '/ws', '/v1', '/anthropic', '/.well-known', '/health/detailed'],
  // The platform's own health, with 001's upstream and 000's capabilities (router/health.ts).
  routerRoutes: ['GET /health'],
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
    // OpenAI's own routes (the /v1 passthrough of 000/001, 002's compatibility routes), in its formats.
    route({
      method: 'POST',
      path: '/v1/chat/completions',
      summary: 'OpenAI-compatible chat completion of a whole conversation (a one-shot session)',
      operation: ChatCompleteDocument,
      errors: openai,
      variables: openAiChat,
      failure: ({ chat }) => failedTurn(chat),
      shape: ({ chat: t }) => ({
        id: t.id,
        object: 'chat.completion',
        created: epochSeconds(t.createdAt),
        model: t.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: t.assistantMessage?.content ?? '' },
            finish_reason: finishReason(t.completionTokens, t.parameters.maxTokens),
          },
        ],
        usage: openAiUsage(t),
      }),
    }),
    route({
      method: 'POST',
      path: '/v1/chat/completions',
      summary: 'With "stream": true, the answer as chat.completion.chunk events, then [DONE]',
      operation: ChatStreamDocument,
      errors: openai,
      variables: openAiChat,
      stream: openAiStream(({ body }) => body.stream === true),
    }),
    // Public like /api/gateway-status, which lists the same models.
    route({
      method: 'GET',
      path: '/v1/models',
      summary: 'OpenAI-compatible model list: the default model and those the upstream lists',
      operation: GatewayStatusDocument,
      errors: openai,
      public: true,
      shape: ({ gatewayStatus: g }) => ({
        object: 'list',
        // Served through the platform; when the upstream made a model is unknown, so `created` is the probe.
        data: modelIds(g).map((id) => ({
          id,
          object: 'model',
          created: epochSeconds(g.probedAt),
          owned_by: 'agentry',
        })),
      }),
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
    route({
      method: 'GET',
      path: '/api/wallet/balance',
      summary: 'USDC + credit balance',
      operation: WalletOverviewDocument,
      errors: runtime,
      // Credits are the USD balance; USDC its own asset. An account not opened yet holds 0.
      shape: ({ walletBalances }) => ({
        usdc: balanceOf(walletBalances, 'USDC'),
        credits: balanceOf(walletBalances, 'USD'),
      }),
    }),
    route({
      method: 'GET',
      path: '/api/wallet/address',
      summary: 'Wallet address: the credit vault to send USDC to (then claim the transaction)',
      operation: WalletDepositAddressDocument,
      errors: runtime,
      shape: ({ depositAddress: d }) => ({
        address: d.address,
        asset: d.asset,
        token_address: d.tokenAddress,
        min_deposit: minorToNumber(d.minimumMinor, 6),
        confirmations: d.confirmations,
        enabled: d.enabled,
      }),
    }),
    route({
      method: 'GET',
      path: '/api/stats/costs',
      summary: 'Inference cost history: the charges of the latest 100 credit movements',
      operation: WalletActivityListDocument,
      errors: runtime,
      variables: { asset: fixed('USD'), first: fixed(100) },
      shape: ({ walletActivity }) => {
        const charges = walletActivity.nodes.filter((e) => e.category === 'CHARGE' && e.kind !== 'PENDING');
        const costs = charges.map((e) => ({
          id: e.id,
          cost_usd: -minorToNumber(activityAmount(e), 6),
          description: e.memo,
          created_at: e.createdAt,
        }));
        const totalMinor = charges.reduce((sum, e) => sum - BigInt(activityAmount(e)), 0n);
        return { costs, total_usd: minorToNumber(totalMinor.toString(), 6), count: costs.length };
      },
    }),
    route({
      method: 'GET',
      path: '/api/stats/transactions',
      summary:
        'Financial transaction history in every asset, newest first; each movement once, in its final state',
      operation: WalletActivityListDocument,
      variables: { movements: fixed(true) },
      errors: runtime,
      paged: { connection: (d) => d.walletActivity, defaultLimit: 50 },
      shape: ({ walletActivity }) => ({
        transactions: walletActivity.nodes.map((e) => ({
          id: e.id,
          type: activityType(e),
          status: movementStatus(e),
          asset: e.asset,
          amount: minorToNumber(movementAmount(e), e.decimals),
          reference: e.reference,
          description: e.memo,
          created_at: e.createdAt,
        })),
        total: walletActivity.totalCount,
      }),
    }),
    // ── 002: sessions, turns and feedback (the "context observatory"). Shapes the reference
    // leaves open are ours: snake_case, a turn as `turn()` above.
    route({
      method: 'POST',
      path: '/api/sessions/:id/messages',
      summary: 'Append a user message to a session; its answer starts at once (follow it on the turn)',
      operation: MessageSendDocument,
      errors: runtime,
      status: 201,
      variables: { sessionId: fromPath('id'), content: fromBody('content'), model: fromBody('model') },
      shape: ({ sendMessage }) => turn(sendMessage),
    }),
    route({
      method: 'GET',
      path: '/api/sessions/:id/turns',
      summary: 'List the turns of a session, newest first',
      operation: SessionTurnsDocument,
      errors: runtime,
      variables: { id: fromPath('id') },
      paged: { connection: (d) => d.session.turns },
      shape: ({ session: s }) => ({
        turns: s.turns.nodes.map(turn),
        session_id: s.id,
        total: s.turns.totalCount,
      }),
    }),
    route({
      method: 'GET',
      path: '/api/turns/:id',
      summary: 'Get single turn detail',
      ...turnById,
      shape: ({ turn: t }) => ({ ...turn(t), feedback: t.feedback && feedback(t.feedback) }),
    }),
    route({
      method: 'GET',
      path: '/api/turns/:id/context',
      summary: 'The messages and sampling parameters sent upstream for a turn',
      ...turnById,
      shape: ({ turn: t }) => ({
        turn_id: t.id,
        messages: t.context.map((m) => ({ role: lower(m.role), content: m.content })),
        parameters: turn(t).parameters,
        total: t.context.length,
      }),
    }),
    route({
      method: 'GET',
      path: '/api/turns/:id/tools',
      summary: 'Tool calls of a turn: none, as no tools are offered upstream',
      ...turnById,
      shape: ({ turn: t }) => ({ turn_id: t.id, tools: [], total: 0 }),
    }),
    route({
      method: 'GET',
      path: '/api/turns/:id/tips',
      summary: 'Heuristic remarks on a turn (latency, context size, …)',
      ...turnById,
      shape: ({ turn: t }) => ({ turn_id: t.id, tips: t.tips }),
    }),
    route({
      method: 'GET',
      path: '/api/turns/:id/model-selection',
      summary: 'The model and provider of a turn, and why that model',
      ...turnById,
      shape: ({ turn: t }) => ({
        turn_id: t.id,
        model: t.model,
        provider: t.provider,
        reason: t.modelReason,
      }),
    }),
    route({
      method: 'POST',
      path: '/api/turns/:id/feedback',
      summary: 'Grade an answer 1 to 5 (409 when graded: update it)',
      operation: FeedbackCreateDocument,
      errors: runtime,
      status: 201,
      variables: feedbackBody,
      shape: ({ createFeedback }) => feedback(createFeedback),
    }),
    route({
      method: 'GET',
      path: '/api/turns/:id/feedback',
      summary: 'The feedback of a turn (404 when it has none)',
      ...turnById,
      failure: ({ turn: t }) =>
        t.feedback ? undefined : { status: 404, code: 'NOT_FOUND', message: `turn ${t.id} has no feedback` },
      shape: ({ turn: t }) => feedback(t.feedback!),
    }),
    route({
      method: 'PUT',
      path: '/api/turns/:id/feedback',
      summary: 'Change the grade or comment of an answer',
      operation: FeedbackUpdateDocument,
      errors: runtime,
      variables: feedbackBody,
      shape: ({ updateFeedback }) => feedback(updateFeedback),
    }),
    route({
      method: 'GET',
      path: '/api/sessions/:id/feedback',
      summary: 'Every grade given in a session, oldest first',
      operation: SessionFeedbackDocument,
      errors: runtime,
      variables: { id: fromPath('id') },
      shape: ({ session: s }) => ({
        session_id: s.id,
        feedback: s.feedback.map(feedback),
        total: s.feedback.length,
      }),
    }),
    // ── 002: models, providers, circuit breakers and the agent.
    route({
      method: 'GET',
      path: '/api/models/available',
      summary: 'List available LLM models: the default and those the upstream lists',
      operation: GatewayStatusDocument,
      errors: runtime,
      shape: ({ gatewayStatus: g }) => {
        const models = modelIds(g);
        return {
          models: models.map((id) => ({ id, default: id === g.model })),
          default_model: g.model,
          total: models.length,
        };
      },
    }),
    route({
      method: 'GET',
      path: '/api/models/selections',
      summary: 'Model selection log: the model of each of your turns and why, newest first',
      operation: TurnListDocument,
      errors: runtime,
      paged: { connection: (d) => d.turns },
      shape: ({ turns }) => ({
        selections: turns.nodes.map((t) => ({
          turn_id: t.id,
          session_id: t.sessionId,
          model: t.model,
          provider: t.provider,
          reason: t.modelReason,
          created_at: t.createdAt,
        })),
        total: turns.totalCount,
      }),
    }),
    route({
      method: 'PUT',
      path: '/api/providers/:name/key',
      summary: "Set a provider's API key (admins; stored encrypted, never shown)",
      operation: ProviderKeySetDocument,
      errors: runtime,
      variables: { provider: fromPath('name'), apiKey: fromBodyAs(['key', 'api_key']) },
      shape: ({ setProviderKey }) => provider(setProviderKey),
    }),
    route({
      method: 'DELETE',
      path: '/api/providers/:name/key',
      summary: 'Remove the provider key set through the API (admins); a configured one applies again',
      operation: ProviderKeyRemoveDocument,
      errors: runtime,
      variables: { provider: fromPath('name') },
      shape: ({ removeProviderKey }) => provider(removeProviderKey),
    }),
    route({
      method: 'GET',
      path: '/api/breaker/status',
      summary: 'All provider breaker states',
      operation: ProviderListDocument,
      errors: runtime,
      shape: ({ llmProviders }) => ({ breakers: llmProviders.map(provider) }),
    }),
    route({
      method: 'POST',
      path: '/api/breaker/reset/:provider',
      summary: 'Reset (close) a provider breaker (admins)',
      operation: BreakerResetDocument,
      errors: runtime,
      variables: { provider: fromPath('provider') },
      shape: ({ resetCircuitBreaker }) => provider(resetCircuitBreaker),
    }),
    // No response cache exists, so the status has no cache statistics.
    route({
      method: 'GET',
      path: '/api/agent/status',
      summary: 'Agent state and model: whether the upstream LLM answers',
      operation: GatewayStatusDocument,
      errors: runtime,
      shape: ({ gatewayStatus: g }) => ({
        state: g.status === 'connected' ? 'ready' : 'disconnected',
        mode: GATEWAY_MODES[g.mode],
        model: g.model,
        models: g.models,
        version: g.version,
        probed_at: g.probedAt,
      }),
    }),
    route({
      method: 'POST',
      path: '/api/agent/message',
      summary: 'Send a message (into session_id, else a new session) and wait for the answer',
      operation: ChatCompleteDocument,
      errors: runtime,
      variables: agentMessage,
      failure: ({ chat }) => failedTurn(chat),
      shape: ({ chat: t }) => ({
        session_id: t.sessionId,
        turn_id: t.id,
        content: t.assistantMessage?.content ?? '',
        model: t.model,
        usage: openAiUsage(t),
        cost_usd: minorToNumber(t.costMicroUsd, MICRO_USD_DECIMALS),
      }),
    }),
    route({
      method: 'POST',
      path: '/api/agent/message/stream',
      summary: 'Send a message and stream the answer as SSE (the events of 001’s chat stream)',
      operation: ChatStreamDocument,
      errors: runtime,
      variables: agentMessage,
      stream: hermesStream(({ body }) => !body.session_id),
    }),
    ...tempoRoutes,
    ...escrowRoutes,
    ...gazeRoutes,
    ...skillRoutes,
    ...runtimeAgentRoutes,
    ...a2aRoutes,
    ...workspaceRoutes,
    ...openAiRelayRoutes,
    ...configRoutes,
    ...memoryRoutes,
    ...observatoryRoutes,
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
    joeSocket,
  ],
};
