import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { createGraphQLError, isAsyncIterable } from '@graphql-tools/utils';
import type { GraphQLError } from 'graphql';

const withCode = (error: GraphQLError, code: string) =>
  error.extensions?.code
    ? error
    : createGraphQLError(error.message, {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        path: error.path,
        originalError: error.originalError ?? undefined,
        extensions: { ...error.extensions, code },
      });

/**
 * graphql-js reports variables that do not match their declared types (wrong type, missing
 * required value) as a result without `data` and without a code; clients get BAD_USER_INPUT.
 */
export function useVariableErrorCodes(): GatewayPlugin {
  return {
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result) || 'data' in result || !result.errors?.length) return;
          setResult({ ...result, errors: result.errors.map((error) => withCode(error, 'BAD_USER_INPUT')) });
        },
      };
    },
  };
}
