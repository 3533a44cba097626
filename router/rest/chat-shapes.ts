/**
 * The chat shapes two dialects share: OpenAI's request and stream formats (hermes' 001 SSE proxy,
 * the runtime's /v1 routes), a failed turn as a problem, and the gateway's model list.
 */
import type {
  ChatEventFieldsFragment,
  ChatStreamSubscription,
  GatewayMode,
  MessageRole,
  TurnFieldsFragment,
} from './generated/graphql';
import { derived, fromBody, fromBodyAs, fromHeader, required } from './mapping';
import {
  InputError,
  type Converter,
  type ErrorStyle,
  type Problem,
  type RouteInput,
  type ShapeContext,
  type SseEvent,
  type StreamContext,
} from './types';

/** OpenAI's `type` of an error, by status. */
const openAiErrorType = (status: number) =>
  ({ 401: 'authentication_error', 403: 'permission_error', 429: 'rate_limit_error' })[status] ??
  (status >= 500 ? 'server_error' : 'invalid_request_error');

/** The OpenAI-compatible routes answer errors as OpenAI does: `{"error": {message, type, code}}`, 400. */
export const openai: ErrorStyle = {
  invalidInput: 400,
  wrongContentType: 415,
  body: ({ status, code, message }) => ({
    error: { message, type: openAiErrorType(status), code: code.toLowerCase() },
  }),
};

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
export const conversation: Converter = {
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
export const idempotency = { 'input.idempotencyKey': fromHeader('Idempotency-Key') };

/**
 * An OpenAI-style request body (`messages`, `model`, sampling) as a one-shot chat; with Hermes'
 * X-Hermes-Session-Id (or the older X-Claude-Session-Id) it goes on in that conversation instead.
 */
export const openAiChat = {
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

export type Turn = TurnFieldsFragment;
export type ChatEvent = ChatEventFieldsFragment;

/** An answer the upstream failed: 503 when no upstream could be reached, else 502. */
export const upstreamProblem = (code: string, message: string | null): Problem => ({
  status: code === 'UPSTREAM_UNAVAILABLE' ? 503 : 502,
  code,
  message: message ?? 'the upstream LLM failed',
});

/** A turn that ended with an upstream error: the operation succeeded, the request did not. */
export const failedTurn = ({ errorCode, errorMessage }: Turn) =>
  errorCode ? upstreamProblem(errorCode, errorMessage) : undefined;

/** OpenAI's finish reason: the answer stopped at the token limit, or by itself. */
export const finishReason = (completionTokens: number, maxTokens: unknown) =>
  typeof maxTokens === 'number' && completionTokens >= maxTokens ? 'length' : 'stop';

export const openAiUsage = (u: { promptTokens: number; completionTokens: number }) => ({
  prompt_tokens: u.promptTokens,
  completion_tokens: u.completionTokens,
  total_tokens: u.promptTokens + u.completionTokens,
});

export const GATEWAY_MODES: Record<GatewayMode, string> = {
  ENHANCED: 'enhanced-hermes',
  PORTABLE: 'portable',
  DISCONNECTED: 'disconnected',
};

/** The default model first, then the others the upstream lists. */
export const modelIds = (g: { model: string; models: string[] }) => [...new Set([g.model, ...g.models])];

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

/** An OpenAI stream, answered when `when` says the request wants one. */
export const openAiStream = (when: (input: RouteInput) => boolean) => ({
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
