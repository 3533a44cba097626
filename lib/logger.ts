import pino, { type DestinationStream, type Logger } from 'pino';
import { logRing } from './log-ring';
import { activeTraceId } from './tracing';

export type { Logger };

/**
 * Fields that may hold a secret, blanked in every line wherever a caller binds them (a request's
 * headers, an input object), so no credential reaches stdout or the log ring.
 */
const SECRET_FIELDS = [
  'authorization',
  'cookie',
  'password',
  'apiKey',
  'api_key',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'privateKey',
];
const REDACT = SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);

/**
 * JSON logs on `destination` (stdout) and in this process's log ring (lib/log-ring.ts); every
 * line of a request carries its `requestId`.
 */
export function createLogger(
  name: string,
  level = process.env.LOG_LEVEL ?? 'info',
  destination: DestinationStream = process.stdout,
): Logger {
  return pino(
    {
      name,
      level,
      base: { service: name },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      // Lines written while a traced request runs name its trace, to find them from the trace.
      mixin: () => {
        const traceId = activeTraceId();
        return traceId ? { traceId } : {};
      },
    },
    pino.multistream([
      { stream: destination, level: 'trace' },
      { stream: logRing, level: 'trace' },
    ]),
  );
}

export const REQUEST_ID_HEADER = 'x-request-id';
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a caller's request id when it is well formed, else makes a new one. */
export function requestIdFrom(header: string | null | undefined): string {
  return header && SAFE_REQUEST_ID.test(header) ? header : crypto.randomUUID();
}
