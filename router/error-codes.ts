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
