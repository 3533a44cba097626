/**
 * The REST engine: finds a dialect's row for a request, maps the request onto the row's named
 * operation, runs it through the router and answers the documented JSON, status and errors.
 * Nothing here knows a dialect; everything a dialect is lives in its table.
 */
import {
  getNamedType,
  isInputObjectType,
  type GraphQLInputType,
  type GraphQLSchema,
  type VariableDefinitionNode,
} from 'graphql';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  IDENTITY_HEADER,
  labelRequest,
  MAX_BODY_BYTES,
  MAX_PAGE_SIZE,
  metrics,
  REQUEST_ID_HEADER,
  inputTextProblem,
  type Logger,
} from '../../lib';
import { fromGraphQLError, problemOf, RestError, type GraphQLErrorLike } from './errors';
import {
  readEventStream,
  readJsonObject,
  readMultipart,
  readRawBody,
  splitUrl,
  startEventStream,
  writeEvent,
  writeJson,
  writeRaw,
} from './http';
import { fromQuery, integer } from './mapping';
import type { Payment, PaymentGate } from './mpp';
import { paymentCredential } from './payments';
import type {
  CredentialRule,
  Dialect,
  ErrorStyle,
  Page,
  RawAnswer,
  RestConfig,
  Row,
  RouteInput,
  ServedDialect,
  ShapeContext,
  Socket,
  SseEvent,
  StreamContext,
} from './types';
import {
  buildVariables,
  checkVariables,
  operationOf,
  renameFields,
  type Operation,
  type Sources,
} from './variables';

/** Runs one GraphQL document through the router, in process. */
export type Execute = (
  document: string,
  variables: Record<string, unknown>,
  headers: Headers,
  signal?: AbortSignal,
) => Promise<Response>;

/** What the router's edge decided about a request before handing it to the facade. */
export interface EdgeVerdict {
  /** Headers the edge set (the signed identity, `x-agentry-*`), forwarded with every operation. */
  headers?: Record<string, string>;
  /** The edge's rate limit refused the request; the dialect answers the 429 in its own format. */
  rateLimited?: boolean;
  /** What the edge made of the request's credential: none sent, one that verified, or one that did not. */
  credential?: 'none' | 'valid' | 'invalid';
  /**
   * A request paying with `Authorization: Payment` (MPP): the edge's reading of the account its
   * credential names, used only once the payment verified (router/rest/mpp.ts).
   */
  payer?: { headers: Record<string, string>; credential: 'valid' | 'invalid' };
}

/** A request's strings (path, query, body, frame) holding NUL or a lone surrogate, or too long: 400 naming the field. */
export function refuseBadText(values: Record<string, unknown>): void {
  const problem = inputTextProblem(values, '');
  if (problem) throw new RestError('BAD_USER_INPUT', problem.message, { field: problem.field });
}

/** An offset is walked page by page (the API pages by cursor), so it is bounded. */
export const MAX_OFFSET = 10_000;

export interface CompiledRoute {
  row: Row;
  operation: Operation;
  pattern: string[];
  sources: Sources;
}

export interface CompiledSocket {
  spec: Socket;
  operation: Operation;
  pattern: string[];
  sources: Sources;
}

export interface CompiledDialect {
  dialect: Dialect;
  mount: string;
  routes: CompiledRoute[];
  sockets: CompiledSocket[];
}

const splitPath = (path: string) => path.split('/').filter(Boolean);

/** Literal segments win over parameters, left to right: `/api/tasks/stats` before `/api/tasks/:id`. */
const specificity = (pattern: string[]) =>
  pattern.map((segment) => (segment.startsWith(':') ? 1 : 0)).join('');

/** A path segment that does not percent-decode: only a parameter can stand for it. */
type Segment = string | undefined;

function decodedSegments(path: string): Segment[] {
  return splitPath(path).map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return undefined;
    }
  });
}

/** How many leading segments a pattern accepts, one more when it accepts the whole path. */
function closeness(pattern: string[], segments: Segment[]): number {
  let n = 0;
  let literal = 0;
  while (
    n < pattern.length &&
    n < segments.length &&
    (pattern[n].startsWith(':') || pattern[n] === segments[n])
  ) {
    if (!pattern[n].startsWith(':')) literal++;
    n++;
  }
  const whole = n === segments.length && n === pattern.length ? 1 : 0;
  // Segments matched first; of those, literal ones outrank parameters (`/api/skills/audit` over `/:id`).
  return (n + whole) * 64 + literal;
}

/**
 * The error format of the rows and sockets nearest a path (those of the request's method first)
 * when they agree, else the dialect's. A refusal made before a row is chosen (404, 405, a segment
 * that does not decode) so answers as the routes of that path do: 002's `/api/turns/…` in
 * `{"error"}` inside the hermes dialect.
 */
export function nearestStyle(compiled: CompiledDialect, segments: Segment[], method: string): ErrorStyle {
  const { dialect } = compiled;
  const entries = [
    ...compiled.routes.map(({ pattern, row }) => ({ pattern, method: row.method, style: row.errors })),
    ...compiled.sockets.map(({ pattern, spec }) => ({ pattern, method: 'GET', style: spec.errors })),
  ];
  let best = 0;
  let styles = new Set<ErrorStyle>();
  for (const entry of entries) {
    const score = closeness(entry.pattern, segments) * 2 + (entry.method === method ? 1 : 0);
    const style = entry.style ?? dialect.errors;
    if (score > best) [best, styles] = [score, new Set()];
    if (score === best) styles.add(style);
  }
  return styles.size === 1 ? [...styles][0] : dialect.errors;
}

export function matchPattern(pattern: string[], segments: Segment[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, part] of pattern.entries()) {
    if (part.startsWith(':')) params[part.slice(1)] = segments[index] ?? '';
    else if (part !== segments[index]) return undefined;
  }
  return params;
}

const pagedSources = (row: Row): Sources =>
  row.paged ? { first: fromQuery('limit', integer(1, MAX_PAGE_SIZE), 'page size') } : {};

/** Problems in a row's variable map: a path the operation does not declare is a bug in the table. */
export function tableProblems(schema: GraphQLSchema, operation: Operation, sources: Sources): string[] {
  const definitions = new Map<string, VariableDefinitionNode>(
    (operation.definition.variableDefinitions ?? []).map((d) => [d.variable.name.value, d]),
  );
  const problems: string[] = [];
  for (const path of Object.keys(sources)) {
    const [root, ...rest] = path.split('.');
    const definition = definitions.get(root);
    if (!definition) {
      problems.push(`${operation.name} declares no variable $${root}`);
      continue;
    }
    let type = getNamedType(schema.getType(namedTypeName(definition)) as GraphQLInputType);
    for (const field of rest) {
      const next = isInputObjectType(type) ? type.getFields()[field] : undefined;
      if (!next) {
        problems.push(`${operation.name}: $${path} is not a field of the variable's type`);
        break;
      }
      type = getNamedType(next.type);
    }
  }
  return problems;
}

function namedTypeName(definition: VariableDefinitionNode): string {
  let type = definition.type;
  while (type.kind !== 'NamedType') type = type.type;
  return type.name.value;
}

export function compileDialect(dialect: Dialect, mount: string, schema: GraphQLSchema): CompiledDialect {
  const routes = dialect.routes.map((row) => {
    const operation = operationOf(row.operation);
    const sources: Sources = { ...pagedSources(row), ...row.variables };
    const problems = tableProblems(schema, operation, sources);
    if (problems.length) throw new Error(`${dialect.name} ${row.method} ${row.path}: ${problems.join('; ')}`);
    return { row, operation, pattern: splitPath(row.path), sources };
  });
  routes.sort((a, b) => specificity(a.pattern).localeCompare(specificity(b.pattern)));
  const sockets = (dialect.sockets ?? []).map((spec) => {
    const operation = operationOf(spec.operation);
    const sources: Sources = { ...spec.variables };
    const problems = tableProblems(schema, operation, sources);
    if (problems.length) throw new Error(`${dialect.name} WS ${spec.path}: ${problems.join('; ')}`);
    return { spec, operation, pattern: splitPath(spec.path), sources };
  });
  return { dialect, mount, routes, sockets };
}

/**
 * Whether a mutation made its change although its result has errors: every error is inside the
 * answer of a root field (a nested field failed after the root resolver committed), none on it.
 */
function changeMade(result: GraphQLResult, operation: Operation): boolean {
  return (
    operation.kind === 'mutation' &&
    Boolean(result.errors?.length) &&
    result.errors!.every((error) => (error.path?.length ?? 0) > 1)
  );
}

/**
 * A mutation that made its change but whose answer came back empty (a nested non-null field failed
 * and nulled the root): the client must not take it for a failure and repeat it, so it is told so,
 * as a 409 (nothing of the request is wrong, but repeating it would be).
 */
const changeUnreadable = () =>
  new RestError(
    'CONFLICT',
    'the change was made, but its answer could not be read: read the resource again instead of repeating the request',
    { committed: true },
  );

/** The status and body a row answers for its data: a failure it reads in the data, or its shape. */
function answerOf(row: Row, data: unknown, context: ShapeContext, style: ErrorStyle) {
  const failure = row.failure?.(data as never);
  if (failure) return { status: failure.status, body: style.body(failure) };
  const status = typeof row.status === 'function' ? row.status(data as never) : (row.status ?? 200);
  return { status, body: row.shape ? row.shape(data as never, context) : data };
}

/** A dialect that needs a credential on every row refuses a missing one and one that does not verify. */
function checkCredential(rule: CredentialRule, edge: EdgeVerdict): void {
  if (edge.credential === 'invalid')
    throw new RestError(rule.invalid, 'the API key or token is not valid', { credential: 'invalid' });
  if (edge.credential !== 'valid') throw new RestError('UNAUTHENTICATED', 'send an API key');
}

export interface EngineOptions {
  dialects: CompiledDialect[];
  execute: Execute;
  schema: GraphQLSchema;
  config: RestConfig;
  log: Logger;
  version: string;
  startedAt: number;
  /** MPP on the rows of payable dialects that need a credential; none when MPP is off. */
  payments?: PaymentGate;
}

/** The headers that reach the router: the request id always; credentials and identity unless public. */
export function forwardedHeaders(req: IncomingMessage, edge: EdgeVerdict, isPublic = false): Headers {
  const headers = new Headers({
    'content-type': 'application/json',
    accept: 'application/graphql-response+json',
  });
  const requestId = req.headers[REQUEST_ID_HEADER];
  if (typeof requestId === 'string') headers.set(REQUEST_ID_HEADER, requestId);
  if (isPublic) return headers;
  for (const name of ['authorization', 'x-api-key']) {
    const value = req.headers[name];
    if (typeof value === 'string') headers.set(name, value);
  }
  const internal = { ...req.headers, ...edge.headers };
  for (const [name, value] of Object.entries(internal)) {
    if (name.toLowerCase().startsWith('x-agentry-') && typeof value === 'string') headers.set(name, value);
  }
  return headers;
}

/**
 * A subscription's results stream as SSE; a refusal (bad credential, invalid request) is then a
 * single result, which the router answers as plain JSON with its HTTP status.
 */
export const SUBSCRIPTION_ACCEPT = 'text/event-stream, application/graphql-response+json';

export const isEventStream = (response: Response) =>
  response.ok &&
  Boolean(response.body) &&
  /^text\/event-stream/.test(response.headers.get('content-type') ?? '');

/** Response headers of the router that a REST client needs too (payment challenges, retry hints). */
const PASSED_THROUGH = [
  'retry-after',
  'www-authenticate',
  'payment-required',
  'payment-response',
  'payment-receipt',
];

interface GraphQLResult {
  data?: Record<string, unknown> | null;
  errors?: (GraphQLErrorLike & { path?: (string | number)[] })[];
}

/** Fixed one-minute windows per row and credential, for rows with a `rateLimit` of their own. */
function rowLimiter() {
  const windows = new Map<string, { start: number; count: number }>();
  return (row: Row, req: IncomingMessage, input: RouteInput): number | undefined => {
    if (!row.rateLimit || (row.rateLimit.counts && !row.rateLimit.counts(input))) return undefined;
    const credential =
      req.headers.authorization ?? req.headers['x-api-key'] ?? req.socket.remoteAddress ?? '';
    const key = `${row.method} ${row.path} ${String(credential)}`;
    const now = Date.now();
    if (windows.size > 10_000) for (const [k, w] of windows) if (now - w.start >= 60_000) windows.delete(k);
    const window = windows.get(key);
    if (!window || now - window.start >= 60_000) {
      windows.set(key, { start: now, count: 1 });
      return undefined;
    }
    window.count++;
    return window.count > row.rateLimit.perMinute
      ? Math.ceil((window.start + 60_000 - now) / 1000)
      : undefined;
  };
}

export function createEngine(options: EngineOptions) {
  const { execute, schema, log } = options;
  const overRowLimit = rowLimiter();
  const heartbeatMs = options.config.REST_SSE_HEARTBEAT_SECONDS * 1000;
  /** Open streams and sockets, ended on close(). */
  const open = new Set<AbortController>();

  /** Which dialect a path belongs to, and the path below its mount. Longest mount first. */
  const byMount = [...options.dialects].sort((a, b) => b.mount.length - a.mount.length);
  function locate(path: string): { compiled: CompiledDialect; below: string } | undefined {
    for (const compiled of byMount) {
      const { mount } = compiled;
      if (path !== mount && !path.startsWith(`${mount}/`)) continue;
      const below = path.slice(mount.length) || '/';
      if (compiled.dialect.owns.some((prefix) => below === prefix || below.startsWith(`${prefix}/`))) {
        return { compiled, below };
      }
    }
    return undefined;
  }

  function sendProblem(res: ServerResponse, error: unknown, style: ErrorStyle, context: string): void {
    const restError =
      error instanceof RestError ? error : new RestError('INTERNAL_SERVER_ERROR', (error as Error)?.message);
    const problem = problemOf(restError, style);
    metrics.errors.inc({ surface: 'rest', code: restError.code });
    if (problem.status === 500) log.error({ err: error, route: context }, 'REST request failed');
    if (res.headersSent) return void res.end();
    if (restError.code === 'METHOD_NOT_ALLOWED') res.setHeader('allow', String(restError.extensions.allow));
    if (restError.code === 'UPGRADE_REQUIRED') res.setHeader('upgrade', 'websocket');
    // A refusal that names when to come back (a withdrawal's cooldown) says so as HTTP does.
    const { retryAfterSeconds } = restError.extensions;
    if (typeof retryAfterSeconds === 'number') res.setHeader('retry-after', String(retryAfterSeconds));
    // A payment challenge names terms for this request only: no cache keeps it.
    if (problem.status === 402) res.setHeader('cache-control', 'no-store');
    for (const [name, value] of Object.entries(style.headers?.(problem) ?? {})) res.setHeader(name, value);
    writeJson(res, problem.status, style.body(problem));
  }

  const isAuthenticated = (headers: Headers) => headers.has(IDENTITY_HEADER);

  /**
   * Runs a row's operation through the router. The request it makes must fit the body limit the
   * router keeps for clients (subgraphs accept a little more, for what the planner adds), so a REST
   * body near the limit whose operation would not is the client's 413, never a subgraph's refusal.
   */
  function forward(
    route: CompiledRoute,
    variables: Record<string, unknown>,
    headers: Headers,
    signal?: AbortSignal,
  ) {
    const size = Buffer.byteLength(JSON.stringify({ query: route.operation.text, variables }));
    if (size > MAX_BODY_BYTES)
      throw new RestError(
        'PAYLOAD_TOO_LARGE',
        `the request is too large: as a GraphQL operation it is ${size} bytes, over ${MAX_BODY_BYTES}`,
      );
    return execute(route.operation.text, variables, headers, signal);
  }

  /** The data of a result, or the REST error of its first GraphQL error. */
  function dataOf(
    result: GraphQLResult,
    status: number,
    route: CompiledRoute | CompiledSocket,
    headers: Headers,
  ) {
    const [first] = result.errors ?? [];
    if (first && changeMade(result, route.operation)) {
      log.error(
        { errors: result.errors, route: route.operation.name },
        'REST mutation made its change but part of its answer failed',
      );
      if (!Object.values(result.data ?? {}).some((value) => value != null)) throw changeUnreadable();
      return result.data!;
    }
    if (first) {
      const error = fromGraphQLError(first, status, isAuthenticated(headers));
      if (error.code === 'INTERNAL_SERVER_ERROR') throw error;
      throw new RestError(error.code, renameFields(error.message, route.sources), error.extensions);
    }
    if (!result.data)
      throw new RestError('INTERNAL_SERVER_ERROR', `${route.operation.name} answered no data`);
    return result.data;
  }

  async function run(
    route: CompiledRoute,
    variables: Record<string, unknown>,
    headers: Headers,
    res: ServerResponse,
  ): Promise<Record<string, unknown>> {
    const response = await forward(route, variables, headers);
    for (const name of PASSED_THROUGH) {
      const value = response.headers.get(name);
      if (value) res.setHeader(name, value);
    }
    const result = (await response.json().catch(() => undefined)) as GraphQLResult | undefined;
    if (!result)
      throw new RestError('INTERNAL_SERVER_ERROR', `router answered ${response.status} without JSON`);
    return dataOf(result, response.status, route, headers);
  }

  /** An offset over cursor pages: skip whole pages (at most 100 rows each), then read the asked one. */
  async function runPaged(
    route: CompiledRoute,
    variables: Record<string, unknown>,
    page: Page,
    headers: Headers,
    res: ServerResponse,
  ) {
    const connectionOf = route.row.paged!.connection;
    let after: string | null = null;
    for (let skipped = 0; skipped < page.offset;) {
      const first = Math.min(MAX_PAGE_SIZE, page.offset - skipped);
      const { nodes, pageInfo } = connectionOf(
        await run(route, { ...variables, first, after }, headers, res),
      );
      skipped += nodes.length;
      after = pageInfo?.endCursor ?? after;
      if (!pageInfo?.hasNextPage) break;
    }
    return run(route, { ...variables, first: page.limit, after }, headers, res);
  }

  function pageOf(route: CompiledRoute, input: RouteInput, variables: Record<string, unknown>): Page {
    if (!route.row.paged) return { limit: 0, offset: 0 };
    variables.first ??= route.row.paged.defaultLimit ?? 20;
    const offset = input.query.get('offset');
    let parsed = 0;
    if (offset !== null) {
      try {
        parsed = integer(0, MAX_OFFSET).convert(offset) as number;
      } catch (error) {
        throw new RestError('BAD_USER_INPUT', `offset ${(error as Error).message}`);
      }
    }
    return { limit: variables.first as number, offset: parsed };
  }

  const dialectsServed: ServedDialect[] = options.dialects.map(({ dialect, mount, routes, sockets }) => ({
    name: dialect.name,
    title: dialect.title,
    mount,
    routes: routes.map(({ row }) => `${row.method} ${row.path}`),
    sockets: sockets.map(({ spec }) => spec.path),
  }));
  const serverInfo = () => ({
    version: options.version,
    uptimeSeconds: Math.round((Date.now() - options.startedAt) / 1000),
    dialects: dialectsServed,
  });

  /** A failure inside a stream, as the event the row's error format makes of it. */
  function streamError(error: unknown, route: CompiledRoute, style: ErrorStyle): SseEvent {
    const problem = problemOf(error, style);
    if (problem.status === 500) log.error({ err: error, route: route.operation.name }, 'REST stream failed');
    return { event: 'error', data: style.body(problem) };
  }

  async function serveStream(
    route: CompiledRoute,
    variables: Record<string, unknown>,
    headers: Headers,
    context: ShapeContext,
    res: ServerResponse,
    style: ErrorStyle,
  ): Promise<void> {
    const spec = route.row.stream!;
    const abort = new AbortController();
    open.add(abort);
    res.on('close', () => abort.abort());
    headers.set('accept', SUBSCRIPTION_ACCEPT);
    let heartbeat: NodeJS.Timeout | undefined;
    /** Commits the 200 and the event-stream headers, once. */
    const begin = () => {
      if (heartbeat) return;
      startEventStream(res);
      heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
    };
    const stream: StreamContext<unknown> = { ...context, state: spec.init?.(context) };
    try {
      const response = await forward(route, variables, headers, abort.signal);
      if (!isEventStream(response)) {
        // Refused before streaming (bad credentials, validation): an ordinary error answer.
        const result = (await response.json().catch(() => ({}))) as GraphQLResult;
        dataOf(result, response.status, route, headers);
        throw new RestError('INTERNAL_SERVER_ERROR', `router answered ${response.status} to a subscription`);
      }
      if (!spec.awaitFirst) begin();
      for await (const message of readEventStream(response.body!, abort.signal)) {
        if (message.event === 'complete' || abort.signal.aborted) break;
        if (!message.data) continue;
        let events: SseEvent[];
        try {
          const data = dataOf(JSON.parse(message.data) as GraphQLResult, 200, route, headers);
          events = [spec.event(data as never, stream) ?? []].flat();
        } catch (error) {
          // A refusal that came as the first result, before anything was sent, is an HTTP error.
          if (!heartbeat) throw error;
          writeEvent(res, streamError(error, route, style));
          break;
        }
        begin();
        for (const event of events) writeEvent(res, event);
      }
      if (!abort.signal.aborted) begin();
      res.end();
    } catch (error) {
      if (!abort.signal.aborted) sendProblem(res, error, style, route.operation.name);
    } finally {
      clearInterval(heartbeat);
      abort.abort();
      open.delete(abort);
    }
  }

  /** The parts of a request a row reads; the body is read once, before a row is picked by it. */
  async function readInput(
    row: Row,
    params: Record<string, string>,
    query: URLSearchParams,
    req: IncomingMessage,
  ): Promise<RouteInput> {
    const hasBody = row.method === 'POST' || row.method === 'PUT' || row.method === 'PATCH';
    const payment = paymentCredential(req.headers);
    if (hasBody && row.rawBody) {
      const input = { params, query, body: {}, headers: req.headers, raw: await readRawBody(req), payment };
      for (const part of [params, Object.fromEntries(query)]) refuseBadText(part);
      return input;
    }
    const read = row.multipart ? readMultipart : readJsonObject;
    const input = { params, query, body: hasBody ? await read(req) : {}, headers: req.headers, payment };
    for (const part of [params, Object.fromEntries(query), input.body]) refuseBadText(part);
    return input;
  }

  /** The variables, page and forwarded headers of a request to a row, checked before anything runs. */
  function prepare(route: CompiledRoute, input: RouteInput, req: IncomingMessage, edge: EdgeVerdict) {
    const variables = buildVariables(route.sources, input);
    const page = pageOf(route, input, variables);
    checkVariables(schema, route.operation, variables, route.sources);
    return { variables, page, headers: forwardedHeaders(req, edge, route.row.public) };
  }

  async function serveRoute(
    route: CompiledRoute,
    input: RouteInput,
    req: IncomingMessage,
    res: ServerResponse,
    edge: EdgeVerdict,
    style: ErrorStyle,
    payment?: Payment,
  ): Promise<void> {
    const { row } = route;
    const { variables, page, headers } = prepare(route, input, req, edge);
    // Counted once the input is valid: a refused request spends none of the row's own limit.
    const retryAfterSeconds = overRowLimit(row, req, input);
    if (retryAfterSeconds !== undefined)
      throw new RestError('RATE_LIMITED', `at most ${row.rateLimit?.perMinute} a minute; retry later`, {
        retryAfterSeconds,
      });
    const context: ShapeContext = { input, page, server: serverInfo() };
    if (row.stream) {
      await serveStream(route, variables, headers, context, res, style);
      return payment?.settle(res.statusCode < 400);
    }
    let data: Record<string, unknown>;
    try {
      data = row.paged
        ? await runPaged(route, variables, page, headers, res)
        : await run(route, variables, headers, res);
    } catch (error) {
      if (!row.notFound || !(error instanceof RestError) || error.code !== 'NOT_FOUND') throw error;
      return writeJson(res, 200, row.notFound(input));
    }
    let answer: { status: number; body: unknown } | { raw: RawAnswer };
    try {
      // A raw row's refusal (its `failure`) is still answered in the dialect's error format.
      answer =
        row.raw && !row.failure?.(data as never)
          ? { raw: await row.raw(data as never) }
          : answerOf(row, data, context, style);
    } catch (error) {
      if (route.operation.kind !== 'mutation') throw error;
      // The change is made: the client gets it as GraphQL answered it; the fault goes to the log.
      log.error(
        { err: error, route: route.operation.name },
        'REST mutation made its change but its answer failed',
      );
      answer = { status: typeof row.status === 'number' ? row.status : 200, body: data };
    }
    for (const [name, value] of Object.entries(row.headers?.(data) ?? {}))
      if (value != null) res.setHeader(name, value);
    // Charged before the answer leaves, so a client that reads it sees the payment made.
    await payment?.settle('raw' in answer || answer.status < 400);
    if ('raw' in answer) writeRaw(res, answer.raw);
    else writeJson(res, answer.status, answer.body);
  }

  /** The rows a request may mean (one path, one method), or the dialect's 404 / 405. */
  function candidates(compiled: CompiledDialect, segments: Segment[], below: string, method: string) {
    if (segments.includes(undefined))
      throw new RestError('BAD_REQUEST', 'the path is not validly percent-encoded');
    const matches = compiled.routes.flatMap((route) => {
      const params = matchPattern(route.pattern, segments);
      return params ? [{ route, params }] : [];
    });
    if (!matches.length && compiled.sockets.some(({ pattern }) => matchPattern(pattern, segments)))
      throw new RestError('UPGRADE_REQUIRED', `${below} is a WebSocket: connect with Upgrade: websocket`);
    if (!matches.length) throw new RestError('NOT_FOUND', `no route ${method} ${below}`);
    const sameMethod = matches.filter(({ route }) => route.row.method === method);
    if (!sameMethod.length) {
      const allow = [...new Set(matches.map(({ route }) => route.row.method))].join(', ');
      throw new RestError('METHOD_NOT_ALLOWED', `${method} is not allowed here; use ${allow}`, { allow });
    }
    // The most specific pattern wins; several rows on that path are told apart by the request.
    const { params } = sameMethod[0];
    const routes = sameMethod
      .filter(({ route }) => route.row.path === sameMethod[0].route.row.path)
      .map(({ route }) => route);
    return { routes, params };
  }

  const wantsStream = (row: Row, input: RouteInput) =>
    row.stream?.when
      ? row.stream.when(input)
      : /\btext\/event-stream\b/.test(String(input.headers.accept ?? ''));

  /** Of the rows on one path: the streaming row the request wants, else the JSON row. */
  const pick = (routes: CompiledRoute[], input: RouteInput) =>
    routes.find(({ row }) => row.stream && wantsStream(row, input)) ??
    routes.find(({ row }) => !row.stream) ??
    routes[0];

  return {
    locate,
    dataOf,
    heartbeatMs,
    version: options.version,
    /** Registers a stream or socket for close(); returns its removal. */
    track(abort: AbortController) {
      open.add(abort);
      return () => open.delete(abort);
    },

    /** Serves a request below a dialect's mount; false when no dialect owns the path. */
    async handle(req: IncomingMessage, res: ServerResponse, edge: EdgeVerdict = {}): Promise<boolean> {
      const { path, query } = splitUrl(req.url);
      const found = locate(path);
      if (!found) return false;
      const { dialect } = found.compiled;
      for (const [name, value] of Object.entries(dialect.headers ?? {})) res.setHeader(name, value);
      const segments = decodedSegments(found.below);
      let style = nearestStyle(found.compiled, segments, req.method ?? 'GET');
      let label = `${dialect.name} ${req.method} ${path}`;
      // Metrics name the row, never the raw path (whose ids would make a label per request).
      labelRequest(req, 'rest', `${dialect.name} unmatched`);
      let payment: Payment | undefined;
      try {
        const { routes, params } = candidates(found.compiled, segments, found.below, req.method ?? 'GET');
        const [first] = routes;
        style = first.row.errors ?? dialect.errors;
        label = `${dialect.name} ${first.row.method} ${first.row.path}`;
        labelRequest(req, 'rest', label);
        if (edge.rateLimited)
          throw new RestError('RATE_LIMITED', 'rate limit exceeded, retry after the Retry-After seconds');
        if (dialect.credentials && !first.row.public) checkCredential(dialect.credentials, edge);
        if (options.payments && dialect.payable && !first.row.public) {
          const opened = await options.payments.open(req, res, label, edge);
          if (opened === 'answered') return true;
          payment = opened;
        }
        const verdict = payment?.edge ?? edge;
        const input = await readInput(first.row, params, query, req);
        const route = pick(routes, input);
        style = route.row.errors ?? style;
        // A stream of something the caller may not read is refused as the JSON read of it is.
        const read = route.row.stream && routes.find((r) => !r.row.stream && r.operation.kind === 'query');
        if (read) {
          const { variables, headers } = prepare(read, input, req, verdict);
          await run(read, variables, headers, res);
        }
        await serveRoute(route, input, req, res, verdict, style, payment);
      } catch (error) {
        await payment?.settle(false);
        sendProblem(res, error, style, label);
      }
      return true;
    },

    close() {
      for (const abort of open) abort.abort();
      open.clear();
    },
  };
}

export type Engine = ReturnType<typeof createEngine>;
