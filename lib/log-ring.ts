/**
 * The latest structured log lines of this process, kept in memory for 002's /api/logs: a bounded
 * ring fed by every logger lib/logger.ts makes. Only a few named fields are kept (never request
 * bodies, headers or other bound values), so a secret logged by mistake does not reach the ring.
 */
import { Writable } from 'node:stream';
import { PROCESS_INSTANCE } from './process-stats';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** pino's numbers for its levels. */
const LEVEL_OF_NUMBER: Record<number, LogLevel> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** Lines kept per process; the oldest goes when a new one comes. */
export const LOG_RING_SIZE = 2000;
/** Longest message kept; a longer one is cut. */
const MAX_MESSAGE_CHARS = 2000;

export interface LogLine {
  /** ISO time. */
  time: string;
  level: LogLevel;
  /** The subgraph that wrote it, or `router` (the router and the launcher). */
  service: string;
  requestId: string | null;
  message: string;
  /** The message of a logged error, without its stack. */
  error: string | null;
}

export interface LogFilter {
  /** This level and above. */
  level?: LogLevel;
  service?: string;
  requestId?: string;
  since?: Date;
  until?: Date;
  /** Newest first, at most this many. */
  limit: number;
}

const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, MAX_MESSAGE_CHARS) : null);

/** Reads one JSON line of pino's into the few fields the ring keeps; null when it is not one. */
export function logLineOf(json: string): LogLine | null {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return null;
  }
  const level = LEVEL_OF_NUMBER[entry.level as number];
  if (!level) return null;
  const time = typeof entry.time === 'number' ? new Date(entry.time) : new Date(String(entry.time));
  return {
    time: Number.isNaN(time.getTime()) ? new Date().toISOString() : time.toISOString(),
    level,
    service: typeof entry.subgraph === 'string' ? entry.subgraph : 'router',
    requestId: typeof entry.requestId === 'string' ? entry.requestId : null,
    message: text(entry.msg) ?? '',
    error: text((entry.err as { message?: unknown } | undefined)?.message),
  };
}

class LogRing extends Writable {
  readonly instance = PROCESS_INSTANCE;
  private readonly lines: LogLine[] = [];
  private partial = '';

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    const parts = (this.partial + chunk.toString()).split('\n');
    this.partial = parts.pop() ?? '';
    for (const part of parts) {
      const line = part && logLineOf(part);
      if (!line) continue;
      this.lines.push(line);
      if (this.lines.length > LOG_RING_SIZE) this.lines.shift();
    }
    done();
  }

  /** The lines that pass `filter`, newest first. */
  read(filter: LogFilter): LogLine[] {
    return filterLines(this.lines, filter);
  }
}

/** Lines that pass `filter`, newest first, at most `filter.limit`. */
export function filterLines(lines: readonly LogLine[], filter: LogFilter): LogLine[] {
  const least = filter.level ? LOG_LEVELS.indexOf(filter.level) : 0;
  const since = filter.since?.toISOString();
  const until = filter.until?.toISOString();
  return lines
    .filter(
      (line) =>
        LOG_LEVELS.indexOf(line.level) >= least &&
        (!filter.service || line.service === filter.service) &&
        (!filter.requestId || line.requestId === filter.requestId) &&
        (!since || line.time >= since) &&
        (!until || line.time <= until),
    )
    .sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0))
    .slice(0, filter.limit);
}

/** This process's ring; every logger of lib/logger.ts writes to it. */
export const logRing = new LogRing();

/** A filter as a query string, for asking a peer's /logs. */
export function logFilterQuery(filter: LogFilter): string {
  const query = new URLSearchParams({ limit: String(filter.limit) });
  if (filter.level) query.set('level', filter.level);
  if (filter.service) query.set('service', filter.service);
  if (filter.requestId) query.set('requestId', filter.requestId);
  if (filter.since) query.set('since', filter.since.toISOString());
  if (filter.until) query.set('until', filter.until.toISOString());
  return query.toString();
}

/** The filter a /logs query string asks for; what does not parse is left out, the limit bounded. */
export function logFilterFrom(query: URLSearchParams): LogFilter {
  const date = (name: string) => {
    const value = query.get(name);
    const parsed = value ? new Date(value) : undefined;
    return parsed && !Number.isNaN(parsed.getTime()) ? parsed : undefined;
  };
  const level = query.get('level') as LogLevel | null;
  const limit = Number(query.get('limit'));
  return {
    level: level && LOG_LEVELS.includes(level) ? level : undefined,
    service: query.get('service') ?? undefined,
    requestId: query.get('requestId') ?? undefined,
    since: date('since'),
    until: date('until'),
    limit: Number.isInteger(limit) && limit > 0 ? Math.min(limit, LOG_RING_SIZE) : LOG_RING_SIZE,
  };
}
