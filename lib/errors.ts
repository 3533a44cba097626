import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { GraphQLError } from 'graphql';

export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  /** Well-formed but not acceptable as sent (an Idempotency-Key reused with another request). */
  | 'UNPROCESSABLE'
  /** The thing exists but may no longer be acted on (an expired escrow). */
  | 'GONE'
  /** A thing grew to its bound (an interview at its most turns). */
  | 'PAYLOAD_TOO_LARGE'
  | 'PAYMENT_REQUIRED'
  | 'RATE_LIMITED'
  | 'UPSTREAM_UNAVAILABLE'
  /** A user-chosen upstream (an agent's endpoint) could not be reached or answered unusably. */
  | 'BAD_GATEWAY'
  /** A user-chosen upstream (an agent's endpoint) did not answer in time. */
  | 'GATEWAY_TIMEOUT'
  /** The upstream LLM answered, but not with a usable plan (a swarm). */
  | 'UPSTREAM_INVALID_PLAN'
  | 'INTERNAL_SERVER_ERROR';

/** A GraphQL error every client can branch on: `extensions.code` is one of {@link ErrorCode}. */
export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message, { extensions: { code, ...details } });
  }
}

export const notFound = (kind: string, id: string) =>
  new AppError('NOT_FOUND', `${kind.toLowerCase()} ${id} not found`, { id });
export const badInput = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('BAD_USER_INPUT', message, details);
export const conflict = (message: string, details: Record<string, unknown> = {}) =>
  new AppError('CONFLICT', message, details);

/** Flushes, turning a unique-constraint violation into a CONFLICT with the caller's wording. */
export async function flushUnique(
  em: { flush(): Promise<void> },
  message: string,
  details: Record<string, unknown> = {},
) {
  try {
    await em.flush();
  } catch (error) {
    if (error instanceof UniqueConstraintViolationException) throw conflict(message, details);
    throw error;
  }
}
