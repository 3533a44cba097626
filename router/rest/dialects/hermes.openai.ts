/**
 * OpenAI's own routes, in its formats: the /v1 passthrough of 000/001 that Hermes Workspace calls,
 * which are 002's compatibility routes too, so both the hermes and the runtime dialect serve chat
 * completions and models; and (hermes) the other OpenAI-compatible endpoints (embeddings,
 * completions, moderations, responses), passed to the provider of the requested model as sent and
 * answered as it answered (streams too), each call metered (and, billed, charged) by the sessions
 * subgraph.
 */
import {
  ChatCompleteDocument,
  ChatStreamDocument,
  GatewayStatusDocument,
  OpenAiRelayDocument,
  OpenAiRelayStreamDocument,
} from '../generated/graphql';
import {
  failedTurn,
  finishReason,
  modelIds,
  openai,
  openAiChat,
  openAiStream,
  openAiUsage,
} from '../chat-shapes';
import { epochSeconds, fromPath, rawBodyBase64 } from '../mapping';
import { RestError } from '../errors';
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

/** Whether a relayed body asks for a stream; one that is not JSON is refused by the JSON row. */
function wantsStream(raw: Buffer | undefined): boolean {
  try {
    return (JSON.parse(raw?.toString('utf8') ?? '') as { stream?: unknown } | null)?.stream === true;
  } catch {
    return false;
  }
}

/** The relay's request, as its rows read it: the endpoint from the path, the body's bytes as sent. */
const relayed = { 'input.endpoint': fromPath('endpoint'), 'input.bodyBase64': rawBodyBase64() };

export const openAiRelayRoutes = [
  // `/v1/chat/completions` and `/v1/models` have rows of their own, which outrank these.
  route({
    method: 'POST',
    path: '/v1/:endpoint',
    summary:
      'OpenAI-compatible embeddings, completions, moderations and responses, passed to the provider of the body’s model (the default model when it names none) and answered as it answered; metered at the model’s price (x-metered-price-micro-usd) and, with BILLING=on, charged from credits (x-charged-micro-usd; 402 when short)',
    operation: OpenAiRelayDocument,
    errors: openai,
    rawBody: true,
    variables: relayed,
    raw: ({ relayOpenAi: r }) => ({
      status: r.status,
      headers: {
        ...(r.contentType ? { 'content-type': r.contentType } : {}),
        'x-metered-price-micro-usd': String(r.priceMicroUsd),
        'x-charged-micro-usd': String(r.chargedMicroUsd),
        'x-upstream-latency-ms': String(r.latencyMs),
      },
      body: Buffer.from(r.bodyBase64, 'base64'),
    }),
  }),
  route({
    method: 'POST',
    path: '/v1/:endpoint',
    summary:
      'With "stream": true (completions, responses): the provider’s Server-Sent Events passed on unchanged up to its own end ([DONE], response.completed); metered and charged when it ends, the upstream aborted when the client leaves',
    operation: OpenAiRelayStreamDocument,
    errors: openai,
    rawBody: true,
    variables: relayed,
    stream: {
      when: ({ raw }) => wantsStream(raw),
      // The subscription refuses (402, 400, the provider's own refusal) before its first event.
      awaitFirst: true,
      // The last result (METERED) is the platform's own: it ends the stream without an event. An
      // ERROR comes only before any event, so it is answered as an HTTP error.
      event: ({ relayOpenAiStream: e }) => {
        if (e.kind === 'ERROR')
          throw new RestError(e.errorCode ?? 'BAD_GATEWAY', e.errorMessage ?? 'the upstream failed');
        return e.kind === 'EVENT'
          ? { event: e.event ?? undefined, id: e.eventId ?? undefined, data: e.data ?? '', raw: true }
          : null;
      },
    },
  }),
];
