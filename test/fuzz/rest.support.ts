/**
 * The REST half of the fuzz: every documented operation of every dialect, read from the router's
 * OpenAPI documents, and the requests that put one hostile value (or a whole wrong body) into it.
 * Shared by the fuzz and the write-integrity test.
 */
import { randomUUID } from 'node:crypto';
import { DIALECTS } from '../../router/rest/dialects';
import {
  BODY_VARIANTS,
  casesByClient,
  HOSTILE,
  kindOf,
  objectText,
  parseJson,
  randomHostile,
  send,
  type Client,
  type FuzzCase,
  type Hostile,
  type JsonSchema,
  type World,
} from './support';

/** Every documented REST operation of every dialect, with the error schema documented for it. */
export async function documentedOperations(base: string): Promise<DocumentedOperation[]> {
  const operations: DocumentedOperation[] = [];
  for (const { name } of DIALECTS) {
    const document = parseJson((await send(base, { method: 'GET', path: `/openapi/${name}.json` })).text) as {
      paths: Record<string, Record<string, OpenApiOperation>>;
      components: { responses: { Error: { content: { 'application/json': { schema: JsonSchema } } } } };
    };
    const dialectError = document.components.responses.Error.content['application/json'].schema;
    for (const [path, methods] of Object.entries(document.paths))
      for (const [method, doc] of Object.entries(methods))
        operations.push(documented(name, path, method, doc, dialectError));
  }
  return operations;
}

export interface DocumentedOperation {
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

export interface Case extends FuzzCase {
  operation: DocumentedOperation;
  /** Error schemas any of which a refusal may use (several where rows on one path disagree). */
  errors: JsonSchema[];
}

export interface OpenApiOperation {
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
export function ordinaryBodyValue(name: string, schema: JsonSchema, ids: World['ids']): string {
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
export type Target =
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

export function targetsOf(operation: DocumentedOperation, salt: string): Target[] {
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

export function caseOf(
  world: Pick<World, 'ids'>,
  operation: DocumentedOperation,
  target: Target,
  client: Client,
  pick: number,
): Case {
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
export const plainCase = (
  world: Pick<World, 'ids'>,
  operation: DocumentedOperation,
  client: Client,
  pick = 0,
) =>
  caseOf(
    world,
    operation,
    { where: 'whole body', label: 'none', body: '{}', contentType: 'application/json' },
    client,
    pick,
  );

/** The seeded sample of one operation's cases: most as the user, fewer anonymously or with a bad key. */
export function casesOf(
  world: Pick<World, 'ids' | 'user' | 'admin'>,
  operation: DocumentedOperation,
  runs?: number,
): Case[] {
  const salt = `${operation.method} ${operation.path}`;
  return casesByClient(
    targetsOf(operation, salt),
    salt,
    world,
    (target, client, index) => caseOf(world, operation, target, client, index),
    { runs },
  );
}
