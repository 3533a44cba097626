/**
 * 000/001's `/v1/*` besides chat completions and models: the other OpenAI-compatible endpoints
 * (embeddings, completions, moderations, responses), passed to the provider of the requested model
 * as sent and answered as it answered, each call metered by the sessions subgraph. Also the
 * OpenAI error format every /v1 row of the hermes dialect answers in.
 */
import { OpenAiRelayDocument } from '../generated/graphql';
import { fromPath, rawBodyBase64 } from '../mapping';
import { route, type ErrorStyle } from '../types';

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

export const openAiRelayRoutes = [
  // `/v1/chat/completions` and `/v1/models` have rows of their own, which outrank this one.
  route({
    method: 'POST',
    path: '/v1/:endpoint',
    summary:
      'OpenAI-compatible embeddings, completions, moderations and responses, passed to the provider of the body’s model (the default model when it names none) and answered as it answered; metered at the model’s price (x-metered-price-micro-usd); no streaming here',
    operation: OpenAiRelayDocument,
    errors: openai,
    rawBody: true,
    variables: { 'input.endpoint': fromPath('endpoint'), 'input.bodyBase64': rawBodyBase64() },
    raw: ({ relayOpenAi: r }) => ({
      status: r.status,
      headers: {
        ...(r.contentType ? { 'content-type': r.contentType } : {}),
        'x-metered-price-micro-usd': String(r.priceMicroUsd),
        'x-upstream-latency-ms': String(r.latencyMs),
      },
      body: Buffer.from(r.bodyBase64, 'base64'),
    }),
  }),
];
