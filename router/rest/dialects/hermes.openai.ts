/**
 * OpenAI's own routes, in its formats: the /v1 passthrough of 000/001 that Hermes Workspace calls,
 * which are 002's compatibility routes too, so both the hermes and the runtime dialect serve them.
 */
import { ChatCompleteDocument, ChatStreamDocument, GatewayStatusDocument } from '../generated/graphql';
import {
  failedTurn,
  finishReason,
  modelIds,
  openai,
  openAiChat,
  openAiStream,
  openAiUsage,
} from '../chat-shapes';
import { epochSeconds } from '../mapping';
import { route } from '../types';

export const openAiRoutes = [
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
];
