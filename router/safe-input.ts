import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { createGraphQLError } from '@graphql-tools/utils';
import type { ValidationRule } from 'graphql';
import { inputTextProblem, isUnsafeText, UNSAFE_TEXT_MESSAGE } from '../lib';

const refusal = (message: string, field: string) =>
  createGraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', field, http: { status: 400 } } });

/** A string literal of the document that an escape (`\u0000`) made unsafe once parsed. */
const safeLiterals: ValidationRule = (context) => ({
  StringValue(node) {
    if (isUnsafeText(node.value))
      context.reportError(
        createGraphQLError(`a string literal ${UNSAFE_TEXT_MESSAGE}`, {
          nodes: [node],
          extensions: { code: 'BAD_USER_INPUT', field: 'query', http: { status: 400 } },
        }),
      );
  },
});

/**
 * The refusal of a request whose parameters hold an unsafe string, if they do. The variables'
 * strings are bounded too (lib/text.ts); the document is bounded by its token limit instead.
 */
export function unsafeParams(params: {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  extensions?: unknown;
}) {
  const unbounded = Number.POSITIVE_INFINITY;
  const problem =
    inputTextProblem(params.query, 'query', unbounded) ??
    inputTextProblem(params.operationName, 'operationName') ??
    inputTextProblem(params.variables, 'variables') ??
    inputTextProblem(params.extensions, 'extensions', unbounded);
  return problem ? refusal(problem.message, problem.field) : undefined;
}

/**
 * One check for every GraphQL request, whatever carried it (HTTP, SSE, graphql-ws, the REST
 * facade): a string holding NUL or a lone surrogate anywhere (the document's literals, a variable,
 * a key), or a variable's string over its length bound, is refused before anything runs, with
 * BAD_USER_INPUT naming where it was.
 */
export function useSafeInput(): GatewayPlugin {
  return {
    onParams({ params }) {
      const error = unsafeParams(params);
      if (error) throw error;
    },
    onValidate({ addValidationRule }) {
      addValidationRule(safeLiterals);
    },
  };
}
