/**
 * runtime: the agent runtime's API (002, Ironclad's `/api`, `/v1` and `/ws`), at its own mount so
 * that its shapes and its `{"error": …}` bodies (axum's, 400 for bad input) never meet 001's.
 * Capability files (runtime.<capability>.ts) each export a rows array, spread into `routes` below.
 */
import {
  AgentListDocument,
  BreakerResetDocument,
  ChatCompleteDocument,
  ChatStreamDocument,
  FeedbackGradeDocument,
  FeedbackUpdateDocument,
  GatewayStatusDocument,
  MessageAppendDocument,
  ProviderKeyRemoveDocument,
  ProviderKeySetDocument,
  BreakerStatusDocument,
  SessionByIdDocument,
  SessionFeedbackDocument,
  SessionListDocument,
  SessionMessagesDocument,
  SessionStartDocument,
  SessionTurnsDocument,
  SocketTicketIssueDocument,
  TurnByIdDocument,
  TurnListDocument,
  type ChatStreamSubscription,
  type FeedbackFieldsFragment,
  type MessageFieldsFragment,
  type SessionFieldsFragment,
  type ProviderFieldsFragment,
} from '../generated/graphql';
import { failedTurn, GATEWAY_MODES, idempotency, modelIds, openAiUsage, type Turn } from '../chat-shapes';
import { fromBody, fromBodyAs, fromPath, integer, lower, minorToNumber, oneOf, required } from '../mapping';
import {
  route,
  type Dialect,
  type RouteInput,
  type ShapeContext,
  type SseEvent,
  type StreamContext,
} from '../types';
import { openAiRoutes } from './hermes.openai';
import { a2aRoutes } from './runtime.a2a';
import { runtimeAgentRoutes } from './runtime.agents';
import { runtimeChannelRoutes } from './runtime.channels';
import { runtimeBrowserRoutes } from './runtime.browser';
import { runtimeConfigRoutes } from './runtime.config';
import { runtimeDeviceRoutes } from './runtime.devices';
import { runtime } from './runtime.errors';
import { interviewRoutes } from './runtime.interview';
import { runtimeMemoryRoutes } from './runtime.memory';
import { observatoryRoutes } from './runtime.observatory';
import { runtimeSkillRoutes } from './runtime.skills';
import { runtimeSocket } from './runtime.socket';
import { runtimeToolRoutes } from './runtime.tools';
import { runtimeCronRoutes } from './runtime.cron';
import { runtimeApprovalRoutes } from './runtime.approvals';
import { runtimeWalletRoutes } from './runtime.wallet';

const MICRO_USD_DECIMALS = 6;

/** A turn (a message and its answer) in 002's snake_case. */
const turn = (t: Turn) => ({
  id: t.id,
  session_id: t.sessionId,
  // Ironclad's turn fields (api/routes/sessions.rs get_turn); no reasoning is kept apart, so no thinking.
  thinking: null,
  tokens_in: t.promptTokens,
  tokens_out: t.completionTokens,
  cost: minorToNumber(t.costMicroUsd, MICRO_USD_DECIMALS),
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

/** Ironclad's turn feedback (api/routes/sessions.rs get_turn_feedback), with when it changed. */
const feedback = (f: FeedbackFieldsFragment) => ({
  id: f.id,
  turn_id: f.turnId,
  session_id: f.sessionId,
  grade: f.grade,
  // Ironclad records every grade given through this API as from the dashboard.
  source: 'dashboard',
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

/**
 * A session as Ironclad's session handlers write it (api/routes/sessions.rs): its nickname is our
 * title; a session is updated last when it ends, else when it began. (Its list also counts turns,
 * which a session here does not carry without a query per session, so `turn_count` is left out.)
 */
const runtimeSession = (s: SessionFieldsFragment) => ({
  id: s.id,
  agent_id: s.agent?.id ?? null,
  scope_key: null,
  status: lower(s.status),
  model: s.model,
  nickname: s.title,
  created_at: s.startedAt,
  updated_at: s.endedAt ?? s.startedAt,
  metadata: null,
});

/** A message as Ironclad's list_messages writes it; usage is kept on turns here, not messages. */
const runtimeMessage = (m: MessageFieldsFragment) => ({
  id: m.id,
  session_id: m.sessionId,
  parent_id: null,
  role: lower(m.role),
  content: m.content,
  usage_json: null,
  created_at: m.createdAt,
});

/** 002's agent message body: `{content, session_id?, model?}`. */
const agentMessage = {
  ...idempotency,
  // Ironclad's AgentMessageRequest (agent/mod.rs) names it `content`; `message` is read too.
  'input.content': required(fromBodyAs(['content', 'message'])),
  'input.sessionId': fromBody('session_id', undefined, 'continue this session; a new one without it'),
  'input.model': fromBody('model'),
};

/**
 * The answer of `POST /api/agent/message` as Ironclad's agent_message handler writes it
 * (crates/ironclad-server/src/api/routes/agent/handlers.rs); no response cache, so never cached.
 */
const agentReply = (t: Turn) => ({
  session_id: t.sessionId,
  turn_id: t.id,
  nickname: null,
  user_message_id: t.userMessage.id,
  assistant_message_id: t.assistantMessage?.id ?? null,
  content: t.assistantMessage?.content ?? '',
  selected_model: t.model,
  model: t.model,
  model_shift_from: null,
  cached: false,
  tokens_saved: 0,
  tokens_in: t.promptTokens,
  tokens_out: t.completionTokens,
  cost: minorToNumber(t.costMicroUsd, MICRO_USD_DECIMALS),
});

/** The model a stream names before its first token: the requested one, else the platform's default. */
const requestedModel = (input: RouteInput) =>
  typeof input.body.model === 'string' ? input.body.model : 'default';

/**
 * `POST /api/agent/message/stream` as Ironclad's streaming handler yields it (agent/streaming.rs):
 * unnamed events `{type: "stream_start"}`, one `{type: "chunk", delta}` per token, then
 * `{type: "stream_end", tokens_in, tokens_out, …}`, or `{type: "error"}`. (Its event bus, our /ws,
 * carries the same tokens as `stream_chunk`.)
 */
const agentStream = {
  when: () => true,
  awaitFirst: true,
  init: ({ input }: ShapeContext) => ({ model: requestedModel(input), length: 0 }),
  event: (
    { chatStream: e }: ChatStreamSubscription,
    { state }: StreamContext<{ model: string; length: number }>,
  ): SseEvent | null => {
    const ids = { session_id: e.sessionId, turn_id: e.turnId };
    switch (e.kind) {
      case 'STARTED':
        return { data: { type: 'stream_start', ...ids, model: state.model } };
      case 'TOKEN':
        state.length += (e.delta ?? '').length;
        return { data: { type: 'chunk', delta: e.delta ?? '', model: state.model, finish_reason: null } };
      case 'COMPLETED':
        return {
          data: {
            type: 'stream_end',
            ...ids,
            model: state.model,
            tokens_in: e.usage?.promptTokens ?? 0,
            tokens_out: e.usage?.completionTokens ?? 0,
            cost: minorToNumber(e.usage?.costMicroUsd ?? '0', MICRO_USD_DECIMALS),
            content_length: state.length,
            content_blocked: false,
          },
        };
      case 'ERROR':
        return { data: { type: 'error', error: e.error?.message ?? 'upstream provider error' } };
    }
  },
};

/** 002's feedback body: `{grade: 1..5, comment}` for the turn in the path. */
const feedbackBody = {
  turnId: fromPath('id'),
  'input.grade': fromBody('grade', integer(1, 5)),
  'input.comment': fromBody('comment'),
};

/** Where Ironclad says a provider's key is kept (its keystore entry); ours is the provider's row. */
const keyEntry = (name: string) => ({ provider: name, keystore_entry: `${name}_api_key` });

/** A setting's value as JSON, from the settings store's list. */
const settingValue = (settings: { key: string; value: string }[], key: string): unknown => {
  const found = settings.find((s) => s.key === key);
  return found ? (JSON.parse(found.value) as unknown) : null;
};

/** 002's routes below a turn read the turn in the path (404 when it is not the caller's). */
const turnById = { operation: TurnByIdDocument, variables: { id: fromPath('id') } };

export const runtimeDialect: Dialect = {
  name: 'runtime',
  title: 'Agent runtime (Ironclad)',
  references: ['002'],
  mountSetting: 'REST_MOUNT_RUNTIME',
  payable: true,
  owns: ['/api', '/v1', '/anthropic', '/ws', '/.well-known'],
  errors: runtime,
  // Ironclad's API key middleware: x-api-key or Bearer on everything but health and the agent card.
  credentials: { invalid: 'UNAUTHENTICATED' },
  // Ironclad's security_headers_layer (api/routes/mod.rs), on every answer.
  headers: {
    'content-security-policy':
      "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
  },
  routes: [
    route({
      method: 'GET',
      path: '/api/health',
      summary: 'Health: status, version, agent, uptime and the models in use (no credential needed)',
      operation: GatewayStatusDocument,
      public: true,
      // Ironclad's health handler (api/routes/health.rs).
      shape: ({ gatewayStatus: g }, { server }) => ({
        status: 'ok',
        version: server.version,
        agent: 'agentry',
        uptime_seconds: server.uptimeSeconds,
        models: { primary: g.model, current: g.model, fallbacks: g.models.filter((m) => m !== g.model) },
      }),
    }),
    route({
      method: 'GET',
      path: '/api/sessions',
      summary: 'List sessions, newest first (`limit`, `offset`)',
      operation: SessionListDocument,
      paged: { connection: (d) => d.sessions },
      shape: ({ sessions }) => ({ sessions: sessions.nodes.map(runtimeSession) }),
    }),
    route({
      method: 'POST',
      path: '/api/sessions',
      summary: 'Create a session (its full object, as Ironclad answers since its BUG-20)',
      operation: SessionStartDocument,
      variables: {
        'input.title': fromBody('title'),
        'input.model': fromBody('model'),
        'input.agentId': fromBody('agent_id', undefined, 'marketplace agent of the session'),
      },
      shape: ({ startSession }) => runtimeSession(startSession),
    }),
    route({
      method: 'GET',
      path: '/api/sessions/:id',
      summary: 'Get session details',
      operation: SessionByIdDocument,
      variables: { id: fromPath('id') },
      shape: ({ session: s }) => runtimeSession(s),
    }),
    route({
      method: 'GET',
      path: '/api/sessions/:id/messages',
      summary: 'Session messages, oldest first; an unknown session has none (200, as Ironclad answers)',
      operation: SessionMessagesDocument,
      variables: { id: fromPath('id') },
      paged: { connection: (d) => d.session.messages },
      notFound: () => ({ messages: [] }),
      shape: ({ session: s }) => ({ messages: s.messages.nodes.map(runtimeMessage).reverse() }),
    }),
    route({
      method: 'GET',
      path: '/api/agents',
      summary: 'List agent instances',
      operation: AgentListDocument,
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
      method: 'POST',
      path: '/api/sessions/:id/messages',
      summary:
        'Append a message `{role: user|assistant, content}` without starting a turn; answers {message_id}',
      operation: MessageAppendDocument,
      // Ironclad's post_message (api/routes/sessions.rs): 200 with the new message's id.
      variables: {
        sessionId: fromPath('id'),
        role: required(fromBody('role', oneOf({ user: 'USER', assistant: 'ASSISTANT' }))),
        content: required(fromBody('content')),
      },
      shape: ({ appendMessage }) => ({ message_id: appendMessage.id }),
    }),
    route({
      method: 'GET',
      path: '/api/sessions/:id/turns',
      summary: 'List the turns of a session, newest first',
      operation: SessionTurnsDocument,
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
      method: 'GET',
      path: '/api/turns/:id/feedback',
      summary: 'The feedback of a turn (404 when it has none)',
      ...turnById,
      failure: ({ turn: t }) =>
        t.feedback ? undefined : { status: 404, code: 'NOT_FOUND', message: `turn ${t.id} has no feedback` },
      shape: ({ turn: t }) => feedback(t.feedback!),
    }),
    route({
      method: 'POST',
      path: '/api/turns/:id/feedback',
      summary: 'Grade an answer 1 to 5; grading it again replaces the grade (as Ironclad)',
      operation: FeedbackGradeDocument,
      variables: feedbackBody,
      shape: ({ gradeTurn }) => feedback(gradeTurn),
    }),
    route({
      method: 'PUT',
      path: '/api/turns/:id/feedback',
      summary: 'Change the grade or comment of an answer',
      operation: FeedbackUpdateDocument,
      variables: feedbackBody,
      shape: ({ updateFeedback }) => ({ ...feedback(updateFeedback), updated: true }),
    }),
    route({
      method: 'GET',
      path: '/api/sessions/:id/feedback',
      summary: 'Every grade given in a session, oldest first',
      operation: SessionFeedbackDocument,
      variables: { id: fromPath('id') },
      // Ironclad lists the feedback of an unknown session as none.
      notFound: ({ params }) => ({ session_id: params.id, feedback: [], total: 0 }),
      shape: ({ session: s }) => ({
        session_id: s.id,
        feedback: s.feedback.map(feedback),
        total: s.feedback.length,
      }),
    }),
    route({
      method: 'GET',
      path: '/api/models/available',
      summary: 'List available LLM models: the default and those the upstream lists',
      operation: GatewayStatusDocument,
      shape: ({ gatewayStatus: g }) => {
        // Ironclad's model ids as strings with their count (admin/config_models_apply.rs).
        const models = modelIds(g);
        return { models, count: models.length, default_model: g.model };
      },
    }),
    route({
      method: 'GET',
      path: '/api/models/selections',
      summary: 'Model selection log: the model of each of your turns and why, newest first',
      operation: TurnListDocument,
      paged: { connection: (d) => d.turns, defaultLimit: 100 },
      // Ironclad's events (api/routes/sessions.rs list_model_selection_events): one per turn here,
      // whose reason is the strategy; no router scores candidates, so those fields are empty.
      shape: ({ turns }) => {
        const events = turns.nodes.map((t) => ({
          event_id: t.id,
          turn_id: t.id,
          session_id: t.sessionId,
          agent_id: null,
          channel: 'api',
          selected_model: t.model,
          strategy: t.modelReason,
          primary_model: null,
          override_model: null,
          complexity: null,
          user_excerpt: null,
          candidates: [],
          provider: t.provider,
          created_at: t.createdAt,
        }));
        return { events, count: events.length, total: turns.totalCount };
      },
    }),
    route({
      method: 'PUT',
      path: '/api/providers/:name/key',
      summary: "Set a provider's API key (admins; stored encrypted, never shown)",
      operation: ProviderKeySetDocument,
      variables: { provider: fromPath('name'), apiKey: fromBodyAs(['key', 'api_key']) },
      shape: ({ setProviderKey: p }) => ({ stored: true, ...keyEntry(p.name), ...provider(p) }),
    }),
    route({
      method: 'DELETE',
      path: '/api/providers/:name/key',
      summary: 'Remove the provider key set through the API (admins); a configured one applies again',
      operation: ProviderKeyRemoveDocument,
      variables: { provider: fromPath('name') },
      shape: ({ removeProviderKey: p }) => ({
        removed: p.keyRemoved ?? false,
        ...keyEntry(p.name),
        ...provider(p),
      }),
    }),
    route({
      method: 'GET',
      path: '/api/breaker/status',
      summary: 'All provider breaker states',
      operation: BreakerStatusDocument,
      // Ironclad's `{providers: {name: state}, config}` (admin/runtime_health.rs breaker_status). No
      // operator force-open nor credit trip exists here, and the cooldown does not grow nor slide.
      shape: ({ llmProviders, platformSettings }) => ({
        providers: Object.fromEntries(
          llmProviders.map((p) => [
            p.name,
            {
              state: lower(p.state),
              blocked: p.state === 'OPEN',
              credit_tripped: false,
              operator_forced_open: false,
            },
          ]),
        ),
        config: {
          threshold: settingValue(platformSettings, 'breaker.failures'),
          cooldown_seconds: settingValue(platformSettings, 'breaker.cooldown_seconds'),
          max_cooldown_seconds: null,
          window_seconds: null,
        },
        breakers: llmProviders.map(provider),
      }),
    }),
    route({
      method: 'POST',
      path: '/api/breaker/reset/:provider',
      summary: 'Reset (close) a provider breaker (admins)',
      operation: BreakerResetDocument,
      variables: { provider: fromPath('provider') },
      // Ironclad's `{provider, state, reset}` (admin/runtime_health.rs breaker_reset), then ours.
      shape: ({ resetCircuitBreaker: p }) => ({ ...provider(p), provider: p.name, reset: true }),
    }),
    route({
      method: 'GET',
      path: '/api/agent/status',
      summary: 'Agent state and model: whether the upstream LLM answers',
      operation: GatewayStatusDocument,
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
      variables: agentMessage,
      failure: ({ chat }) => failedTurn(chat),
      shape: ({ chat: t }) => agentReply(t),
    }),
    route({
      method: 'POST',
      path: '/api/agent/message/stream',
      summary: 'Send a message and stream the answer as SSE: stream_start, chunk…, stream_end',
      operation: ChatStreamDocument,
      variables: agentMessage,
      stream: agentStream,
    }),
    route({
      method: 'POST',
      path: '/api/ws-ticket',
      summary: 'A single-use ticket, valid 30 seconds, to open /ws as `?ticket=` without a header credential',
      operation: SocketTicketIssueDocument,
      // Ironclad's issue_ws_ticket (api/routes/admin/advanced_runtime.rs, ws_ticket.rs).
      shape: ({ issueSocketTicket: t }) => ({ ticket: t.ticket, expires_in: t.expiresIn }),
    }),
    ...openAiRoutes,
    ...runtimeSkillRoutes,
    ...runtimeAgentRoutes,
    ...a2aRoutes,
    ...runtimeConfigRoutes,
    ...runtimeMemoryRoutes,
    ...observatoryRoutes,
    ...interviewRoutes,
    ...runtimeChannelRoutes,
    ...runtimeBrowserRoutes,
    ...runtimeDeviceRoutes,
    ...runtimeToolRoutes,
    ...runtimeCronRoutes,
    ...runtimeApprovalRoutes,
    ...runtimeWalletRoutes,
  ],
  sockets: [runtimeSocket],
};
