import type { ErrorStyle, Problem } from './types';

/** An error the engine answers in the dialect's own format. `code` is a GraphQL `extensions.code`. */
export class RestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Statuses every dialect shares; BAD_USER_INPUT and UNSUPPORTED_MEDIA_TYPE vary by dialect. */
const STATUS_OF_CODE: Record<string, number> = {
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  PAYMENT_REQUIRED: 402,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UPGRADE_REQUIRED: 426,
  CONFLICT: 409,
  GONE: 410,
  UNPROCESSABLE: 422,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UPSTREAM_UNAVAILABLE: 503,
  UPSTREAM_INVALID_PLAN: 502,
  BAD_GATEWAY: 502,
  GATEWAY_TIMEOUT: 504,
};

/** Refusals the edge may answer by HTTP status alone. Any other code-less error is ours: a 500. */
const CODE_OF_EDGE_STATUS: Record<number, string> = {
  401: 'UNAUTHENTICATED',
  402: 'PAYMENT_REQUIRED',
  403: 'FORBIDDEN',
  429: 'RATE_LIMITED',
};

export function problemOf(thrown: unknown, style: ErrorStyle): Problem {
  // Anything but a RestError is a fault of ours: a 500 without details.
  const error = thrown instanceof RestError ? thrown : new RestError('INTERNAL_SERVER_ERROR', '');
  const status =
    error.code === 'BAD_USER_INPUT'
      ? style.invalidInput
      : error.code === 'UNSUPPORTED_MEDIA_TYPE'
        ? style.wrongContentType
        : (STATUS_OF_CODE[error.code] ?? 500);
  // Whatever went wrong inside stays in the log: the client learns only that it did.
  if (status === 500) return { status, code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' };
  return { status, code: error.code, message: error.message, extensions: error.extensions };
}

export interface GraphQLErrorLike {
  message: string;
  extensions?: Record<string, unknown>;
}

/**
 * The REST error for the first GraphQL error of a result. Codes a client can act on keep their
 * message (the subgraphs write them for clients); anything else becomes a 500 without details.
 */
export function fromGraphQLError(
  error: GraphQLErrorLike,
  httpStatus: number,
  authenticated: boolean,
): RestError {
  const { code: rawCode, http, ...details } = error.extensions ?? {};
  let code = typeof rawCode === 'string' ? rawCode : undefined;
  // The gateway's @authenticated / @requiresScopes refusal: a known caller lacks a scope.
  if (code === 'UNAUTHORIZED_FIELD_OR_TYPE') code = authenticated ? 'FORBIDDEN' : 'UNAUTHENTICATED';
  const status = (http as { status?: number } | undefined)?.status ?? httpStatus;
  if (!code || !(code in STATUS_OF_CODE || code === 'BAD_USER_INPUT')) code = CODE_OF_EDGE_STATUS[status];
  return code
    ? new RestError(code, error.message, details)
    : new RestError('INTERNAL_SERVER_ERROR', error.message);
}
