/**
 * Every REST route of every dialect, as its generated OpenAPI document describes it, called with
 * hostile values in each parameter and body field and with bodies that are not what it reads, as a
 * signed-in user, anonymously and with a key that does not exist. No answer may be a 5xx, and every
 * refusal must be in the error format the document gives for that route.
 */
import { randomUUID } from 'node:crypto';
import { DIALECTS } from '../../router/rest/dialects';
import {
  BODY_VARIANTS,
  casesByClient,
  clientsOf,
  clip,
  firstEventOf,
  fits,
  HOSTILE,
  kindOf,
  nearlyFullBody,
  objectText,
  parseJson,
  randomHostile,
  runCases,
  send,
  startWorld,
  type Answer,
  type Client,
  type FuzzCase,
  type Hostile,
  type JsonSchema,
  type World,
} from './support';

let world: World;
/** Every documented REST operation, with the error schema documented for it. */
let operations: DocumentedOperation[];

interface DocumentedOperation {
  dialect: string;
  method: string;
  /** The OpenAPI path, `{name}` for parameters. */
  path: string;
  parameters: { name: string; in: string; schema: JsonSchema }[];
  body?: { properties: Record<string, JsonSchema>; required: string[] };
  /** Answers Server-Sent Events to a client that accepts them. */
  streams: boolean;
  /** A WebSocket endpoint (documented as a GET that upgrades). */
  socket: boolean;
  error: JsonSchema;
  /** The dialect's shared error schema. */
  dialectError: JsonSchema;
}

interface Case extends FuzzCase {
  operation: DocumentedOperation;
  /** Error schemas any of which a refusal may use (several where rows on one path disagree). */
  errors: JsonSchema[];
}

beforeAll(async () => {
  world = await startWorld();
  operations = [];
  for (const { name } of DIALECTS) {
    const document = parseJson(
      (await send(world.t.url, { method: 'GET', path: `/openapi/${name}.json` })).text,
    ) as {
      paths: Record<string, Record<string, OpenApiOperation>>;
      components: { responses: { Error: { content: { 'application/json': { schema: JsonSchema } } } } };
    };
    const dialectError = document.components.responses.Error.content['application/json'].schema;
    for (const [path, methods] of Object.entries(document.paths))
      for (const [method, doc] of Object.entries(methods))
        operations.push(documented(name, path, method, doc, dialectError));
  }
}, 120_000);
afterAll(() => world?.close());

interface OpenApiOperation {
  parameters?: { name: string; in: string; schema: JsonSchema }[];
  requestBody?: { content: { 'application/json'?: { schema: JsonSchema } } };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: JsonSchema }> }>;
}

function documented(
  dialect: string,
  path: string,
  method: string,
  doc: OpenApiOperation,
  dialectError: JsonSchema,
): DocumentedOperation {
  // A relayed (any type) or multipart body has no JSON schema: such a row gets the ordinary cases only.
  const bodySchema = doc.requestBody?.content['application/json']?.schema;
  const fallback = doc.responses.default;
  return {
    dialect,
    method: method.toUpperCase(),
    path,
    parameters: doc.parameters ?? [],
    body: bodySchema && {
      properties: bodySchema.properties as Record<string, JsonSchema>,
      required: (bodySchema.required as string[]) ?? [],
    },
    streams: Object.values(doc.responses).some((r) => r.content?.['text/event-stream']),
    socket: Boolean(doc.responses['101']),
    error: fallback.$ref ? dialectError : fallback.content!['application/json'].schema,
    dialectError,
  };
}

// ── Ordinary values, for the fields a case does not make hostile ───────────────────────────────

let emails = 0;
function ordinaryBodyValue(name: string, schema: JsonSchema, ids: World['ids']): string {
  const byName: Record<string, () => string> = {
    messages: () => '[{"role":"user","content":"hi"}]',
    model: () => '"double-1"',
    email: () => JSON.stringify(`fuzz${++emails}@example.com`),
    password: () => '"long enough password"',
    url: () => '"https://example.com/hook"',
    events: () => '["*"]',
    schedule: () => '"0 9 * * 1"',
    scopes: () => '["tasks"]',
    ticker: () => JSON.stringify(`FZ${randomUUID().slice(0, 6).toUpperCase()}`),
    agent_id: () => JSON.stringify(ids.agent[0]),
    assigned_agent: () => JSON.stringify(ids.agent[0]),
    agent_name: () => JSON.stringify(ids.agent[0]),
    session_id: () => JSON.stringify(ids.session[0]),
  };
  if (byName[name]) return byName[name]();
  if (Array.isArray(schema.enum)) return JSON.stringify(schema.enum[0]);
  const types = [schema.type].flat();
  if (types.includes('string') && types.includes('number')) return '"1.00"';
  if (types.includes('integer')) return String(schema.minimum ?? 1);
  if (types.includes('number')) return '0.5';
  if (types.includes('boolean')) return 'false';
  if (types.includes('array')) return '[]';
  if (types.includes('object')) return '{}';
  return '"fuzz"';
}

function ordinaryQueryValue(name: string, schema: JsonSchema, ids: World['ids']): string | undefined {
  if (name === 'limit') return '5';
  if (name === 'offset') return '0';
  if (name === 'agent' || name === 'agent_id') return ids.agent[0];
  if (name === 'task_id') return ids.task[0];
  if (Array.isArray(schema.enum)) return String(schema.enum[0]);
  return undefined;
}

/** A real id of the kind the parameter names, the caller's own or another's, chosen per case. */
function ordinaryPathValue(segments: string[], index: number, ids: World['ids'], pick: number): string {
  const name = segments[index].slice(1, -1);
  if (name === 'provider' || name === 'name') return 'default';
  const pool = ids[kindOf(segments, index) ?? ''] ?? ['unknown_01jd7x5q3k'];
  return encodeURIComponent(pool[pick % pool.length]);
}

// ── Cases ──────────────────────────────────────────────────────────────────────────────────────

/** What a case makes hostile: one parameter or body field, or the body as a whole. */
type Target =
  | { where: 'path' | 'query' | 'header' | 'body'; name: string; value: Hostile }
  | { where: 'whole body'; label: string; body: Buffer | string; contentType?: string };

/** Header values must be visible ASCII; the rest of the hostile list cannot be sent in one. */
const headerValue = (value: Hostile) => {
  if (value.url === undefined) return undefined;
  const decoded = (() => {
    try {
      return decodeURIComponent(value.url);
    } catch {
      return undefined;
    }
  })();
  return decoded !== undefined && /^[\x20-\x7e]{1,200}$/.test(decoded) ? decoded : undefined;
};

function targetsOf(operation: DocumentedOperation, salt: string): Target[] {
  const values = [...HOSTILE, ...randomHostile(4, salt)];
  const targets: Target[] = [];
  for (const parameter of operation.parameters) {
    for (const value of values) {
      if (parameter.in === 'header' && headerValue(value) === undefined) continue;
      if (parameter.in !== 'header' && value.url === undefined) continue;
      targets.push({ where: parameter.in as 'path', name: parameter.name, value });
    }
  }
  for (const name of Object.keys(operation.body?.properties ?? {}))
    for (const value of values) targets.push({ where: 'body', name, value });
  if (operation.body || operation.method === 'POST' || operation.method === 'PUT')
    for (const variant of BODY_VARIANTS) targets.push({ where: 'whole body', ...variant });
  return targets;
}

function caseOf(operation: DocumentedOperation, target: Target, client: Client, pick: number): Case {
  const { ids } = world;
  const segments = operation.path.split('/');
  const pathText = segments
    .map((segment, index) => {
      if (!/^\{\w+\}$/.test(segment)) return segment;
      if (target.where === 'path' && `{${target.name}}` === segment) return target.value.url!;
      return ordinaryPathValue(segments, index, ids, pick);
    })
    .join('/');
  const query = new URLSearchParams();
  const queryParts: string[] = [];
  const headers: Record<string, string> = { ...client.headers };
  for (const parameter of operation.parameters) {
    const hostile = 'value' in target && target.where === parameter.in && target.name === parameter.name;
    if (parameter.in === 'query') {
      if (hostile) queryParts.push(`${parameter.name}=${target.value.url}`);
      else {
        const value = ordinaryQueryValue(parameter.name, parameter.schema, ids);
        if (value !== undefined) query.set(parameter.name, value);
      }
    }
    if (parameter.in === 'header')
      headers[parameter.name] = hostile ? headerValue(target.value)! : randomUUID();
  }
  const search = [query.toString(), ...queryParts].filter(Boolean).join('&');
  let body: Buffer | string | undefined;
  if (target.where === 'whole body') {
    body = target.body;
    if (target.contentType) headers['content-type'] = target.contentType;
  } else if (operation.body) {
    const members = Object.fromEntries(
      Object.entries(operation.body.properties).map(([name, schema]) => [
        name,
        ordinaryBodyValue(name, schema, ids),
      ]),
    );
    if (target.where === 'body') members[target.name] = target.value.json;
    body = objectText(members);
    headers['content-type'] = 'application/json';
  }
  const stream = operation.streams && (operation.method === 'POST' || pick % 2 === 1);
  headers.accept = stream ? 'text/event-stream' : 'application/json';
  const value = 'value' in target ? target.value : undefined;
  const collapses = target.where === 'path' && target.value.url === '';
  const what =
    target.where === 'whole body'
      ? `whole body = ${target.label}`
      : `${target.where} ${target.name} = ${target.value.label}`;
  return {
    operation,
    label: `${operation.method} ${operation.path} (${client.label}, ${what}${stream ? ', as SSE' : ''})`,
    request: {
      method: operation.method,
      path: `${pathText}${search ? `?${search}` : ''}`,
      headers,
      body,
      headOnly: stream,
      // Long enough for an error that comes as the stream's first event, short enough for a bounded run.
      firstEventMs: stream ? STREAM_FIRST_EVENT_MS : undefined,
    },
    // An empty segment collapses the path onto another route (`/sessions//turns` is `/sessions/turns`).
    errors: collapses ? [operation.error, operation.dialectError] : [operation.error],
    othersWork: Boolean(value?.badText || value?.label === 'unknown agent id'),
  };
}

const STREAM_FIRST_EVENT_MS = 400;

/** The request of an operation with ordinary values only. */
const plainCase = (operation: DocumentedOperation, client: Client, pick = 0) =>
  caseOf(
    operation,
    { where: 'whole body', label: 'none', body: '{}', contentType: 'application/json' },
    client,
    pick,
  );

/** The seeded sample of one operation's cases: most as the user, fewer anonymously or with a bad key. */
function casesOf(operation: DocumentedOperation): Case[] {
  const salt = `${operation.method} ${operation.path}`;
  return casesByClient(targetsOf(operation, salt), salt, world, (target, client, index) =>
    caseOf(operation, target, client, index),
  );
}

/** Per path: a method it does not serve (405) and a segment below it that nothing serves (404). */
function pathCases(): Case[] {
  const byPath = new Map<string, DocumentedOperation[]>();
  for (const operation of operations)
    byPath.set(operation.path, [...(byPath.get(operation.path) ?? []), operation]);
  const [user] = clientsOf(world);
  return [...byPath.values()].flatMap((same) => {
    const path = plainCase(same[0], user).request.path.split('?')[0];
    const schemas = [...new Map(same.map((o) => [JSON.stringify(o.error), o.error])).values()];
    // Where the rows of one path answer in different formats, the dialect's is the fair one.
    const errors = schemas.length === 1 ? schemas : [...schemas, same[0].dialectError];
    const probe = (label: string, method: string, target: string): Case => ({
      operation: same[0],
      label: `${method} ${target} (${label})`,
      request: { method, path: target, headers: user.headers },
      errors,
      othersWork: false,
    });
    return [
      probe('a method the path does not serve', 'PATCH', path),
      probe('a segment nothing serves', 'GET', `${path}/fuzz-nope`),
    ];
  });
}

// ── Checks ─────────────────────────────────────────────────────────────────────────────────────

/**
 * 503 is the platform's documented answer when a service it depends on is not configured or not
 * reachable (an upstream LLM, the payout service); 502 and 504 when an agent's endpoint cannot be
 * reached or is too slow (the AUTX proxy: the fuzz world's agents have no endpoint). They are
 * counted and checked for the error format, not failed. Any other 5xx is.
 */
const DEPENDENCY_FAILURES = new Set([502, 503, 504]);

function problemsOf(answer: Answer, entry: Case): string[] {
  if (answer.status >= 500 && !DEPENDENCY_FAILURES.has(answer.status))
    return [`status ${answer.status}: ${clip(answer.text)}`];
  if (/text\/event-stream/.test(String(answer.headers['content-type']))) return streamProblems(answer);
  if (answer.status < 400) return [];
  const body = parseJson(answer.text);
  if (!entry.errors.some((schema) => fits(body, schema)))
    return [`${answer.status} not in the documented error format: ${clip(answer.text)}`];
  return [];
}

/** An event stream whose first event is an error of ours (a 5xx or INTERNAL_SERVER_ERROR in it). */
function streamProblems(answer: Answer): string[] {
  const first = firstEventOf(answer);
  if (first?.event !== 'error') return [];
  const { status } = (parseJson(first.data) ?? {}) as { status?: unknown };
  const ours =
    /INTERNAL_SERVER_ERROR|INTERNAL_ERROR|Internal server error/.test(first.data) ||
    (typeof status === 'number' && status >= 500 && !DEPENDENCY_FAILURES.has(status));
  return ours ? [`an error event of ours after ${answer.status}: ${clip(first.data)}`] : [];
}

const run = (cases: Case[]) => runCases(world.t.url, cases, problemsOf);

test('no route answers a 5xx or an error outside its documented format, whatever it is sent', async () => {
  const cases = operations.flatMap(casesOf);
  const { failures, statuses } = await run(cases);
  console.log(
    `REST fuzz: ${operations.length} operations, ${cases.length} requests, statuses ${JSON.stringify(statuses)}`,
  );
  expect(failures).toEqual([]);
}, 600_000);

test('unknown paths and methods below each route answer in its format', async () => {
  const { failures } = await run(pathCases());
  expect(failures).toEqual([]);
}, 120_000);

test('an event stream of something the caller cannot read is refused as its JSON GET is', async () => {
  const [user] = clientsOf(world);
  const failures: string[] = [];
  for (const operation of operations.filter((o) => o.streams && o.method === 'GET')) {
    // The caller's own object, then another account's.
    for (const pick of [0, 1]) {
      const { path } = plainCase(operation, user, pick).request;
      const asJson = await send(world.t.url, { method: 'GET', path, headers: user.headers });
      const asStream = await send(world.t.url, {
        method: 'GET',
        path,
        headers: { ...user.headers, accept: 'text/event-stream' },
        headOnly: true,
      });
      if (asJson.status >= 400 !== asStream.status >= 400)
        failures.push(`${path}: JSON ${asJson.status}, SSE ${asStream.status}`);
    }
  }
  expect(failures).toEqual([]);
}, 60_000);

test('a body just under 1 MiB is served or refused with 413 in the route format, never 500', async () => {
  const [user] = clientsOf(world);
  const cases = operations.flatMap((operation) => {
    const properties = Object.entries(operation.body?.properties ?? {});
    const grown = properties.find(([, schema]) => [schema.type].flat()[0] === 'string');
    if (!grown) return [];
    const members = Object.fromEntries(
      properties.map(([name, schema]) => [name, ordinaryBodyValue(name, schema, world.ids)]),
    );
    const base = plainCase(operation, user);
    return [{ ...base, request: { ...base.request, body: nearlyFullBody(members, grown[0]) } }];
  });
  expect((await run(cases)).failures).toEqual([]);
}, 120_000);

test('x402 refuses every route but its health check without a key (401) or with an invalid one (403)', async () => {
  const [, anonymous, invalid] = clientsOf(world);
  const answers: string[] = [];
  for (const operation of operations.filter((o) => o.dialect === 'x402' && !o.socket)) {
    for (const client of [anonymous, invalid]) {
      const answer = await send(world.t.url, plainCase(operation, client).request);
      const { code } = (parseJson(answer.text) ?? {}) as { code?: string };
      answers.push(`${client.label} ${operation.method} ${operation.path} ${answer.status} ${code ?? ''}`);
    }
  }
  const expected = answers.map((line) =>
    line.includes('/api/health')
      ? line.replace(/ \d+ .*$/, ' 200 ')
      : line.replace(
          / \d+ .*$/,
          line.startsWith('anonymous') ? ' 401 MISSING_API_KEY' : ' 403 INVALID_API_KEY',
        ),
  );
  expect(answers).toEqual(expected);
}, 60_000);

test('every amount a route reads refuses what no column or business holds, in the route format', async () => {
  const [user] = clientsOf(world);
  const amounts = ['"10000000000"', '"99999999999999999999"', '"9223372036854775808"', '1e400', '-1'];
  const cases = operations.flatMap((operation) =>
    Object.entries(operation.body?.properties ?? {})
      .filter(([, schema]) => typeof schema.pattern === 'string' && [schema.type].flat().includes('number'))
      .flatMap(([name]) =>
        amounts.map((json) =>
          caseOf(operation, { where: 'body', name, value: { label: json, json } }, user, 0),
        ),
      ),
  );
  expect(cases.length).toBeGreaterThan(0);
  const { failures } = await runCases(world.t.url, cases, (answer, entry) =>
    answer.status === 400 || answer.status === 422
      ? problemsOf(answer, entry)
      : [`${answer.status} instead of a refusal: ${clip(answer.text)}`],
  );
  expect(failures).toEqual([]);
}, 60_000);
