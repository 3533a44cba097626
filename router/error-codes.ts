import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { createGraphQLError, isAsyncIterable } from '@graphql-tools/utils';
import type { ExecutionResult, GraphQLError } from 'graphql';

/** Request errors (nothing executed) answer 400 under GraphQL over HTTP, with a code. */
const asRequestError = (error: GraphQLError) =>
  createGraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: { ...error.extensions, code: 'BAD_USER_INPUT', http: { status: 400 } },
  });

/**
 * Every refusal carries a code. graphql-js reports variables that do not match their types
 * without one, and so do the query-limit rules (depth, aliases, cost, tokens); such a result
 * has no `data`, so nothing ran, and the client gets BAD_USER_INPUT with status 400.
 */
export function useErrorCodes(): GatewayPlugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || isAsyncIterable(result)) return;
      const single = result as ExecutionResult;
      if ('data' in single || !single.errors?.some((error) => !error.extensions?.code)) return;
      setResult({
        ...single,
        errors: single.errors.map((error) =>
          error.extensions?.code ? error : asRequestError(error as GraphQLError),
        ),
      });
    },
  };
}

/** Refusals Yoga answers with an empty body, by status: the code and message a client reads instead. */
const EMPTY_REFUSALS: Record<number, { code: string; message: string }> = {
  406: {
    code: 'NOT_ACCEPTABLE',
    message:
      'the Accept header allows no answer this endpoint gives: accept application/graphql-response+json, application/json or text/event-stream',
  },
  415: {
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'send the request body as Content-Type: application/json, or the query as GET parameters',
  },
};

/** Every answer of /graphql a client can read as GraphQL: one error with a message and a code. */
export const graphqlErrorBody = (message: string, code: string) =>
  JSON.stringify({ errors: [{ message, extensions: { code } }] });

/**
 * Transport refusals in the GraphQL error format: GET parameters that are not JSON are the client's
 * 400 (Yoga lets the parse error out as a 500), and the 406 and 415 Yoga sends empty get a body.
 */
export function useTransportErrors(): GatewayPlugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
          throw createGraphQLError(`a request parameter is not valid JSON: ${error.message}`, {
            extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
          });
        }
      });
    },
    onResponse({ response, setResponse, fetchAPI }) {
      const refusal = EMPTY_REFUSALS[response.status];
      if (!refusal || response.body !== null) return;
      const headers = new fetchAPI.Headers(response.headers);
      headers.set('content-type', 'application/json; charset=utf-8');
      setResponse(
        new fetchAPI.Response(graphqlErrorBody(refusal.message, refusal.code), {
          status: response.status,
          headers,
        }),
      );
    },
  };
}
