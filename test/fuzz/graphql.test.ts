/**
 * Every root field of the schema the router introspects, with hostile values in each argument and
 * input field (as variables, and written into the query as literals), and /graphql itself sent
 * what a careless or hostile client sends. No answer may be a 5xx or INTERNAL_SERVER_ERROR, and
 * every refusal is `{errors: [{message, extensions: {code}}]}`.
 */
import { randomUUID } from 'node:crypto';
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isInterfaceType,
  isLeafType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { MAX_BODY_BYTES } from '../../lib';
import {
  casesByClient,
  clientsOf,
  clip,
  firstEvent,
  graphqlProblems,
  HOSTILE,
  parseJson,
  randomHostile,
  raw,
  runCases,
  send,
  startWorld,
  type Answer,
  type Client,
  type FuzzCase,
  type Hostile,
  type World,
} from './support';

let world: World;
let schema: GraphQLSchema;

beforeAll(async () => {
  world = await startWorld();
  const answer = await send(world.t.url, {
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${world.user.credential}` },
    body: JSON.stringify({ query: getIntrospectionQuery() }),
  });
  schema = buildClientSchema((parseJson(answer.text) as { data: IntrospectionQuery }).data);
}, 120_000);
afterAll(() => world?.close());

// ── Values as trees, printed as JSON (variables) or as GraphQL literals ───────────────────────

type Value = { leaf: string } | { enumValue: string } | { object: [string, Value][] } | { list: Value[] };

function printJson(value: Value): string {
  if ('leaf' in value) return value.leaf;
  if ('enumValue' in value) return JSON.stringify(value.enumValue);
  if ('list' in value) return `[${value.list.map(printJson).join(',')}]`;
  return `{${value.object.map(([key, v]) => `${JSON.stringify(key)}:${printJson(v)}`).join(',')}}`;
}

/** JSON text as a GraphQL literal: the same text, except objects, whose keys GraphQL writes bare. */
function printLiteral(value: Value): string {
  if ('leaf' in value) {
    if (!value.leaf.trimStart().startsWith('{')) return value.leaf;
    return printLiteral(fromJson(JSON.parse(value.leaf)));
  }
  if ('enumValue' in value) return value.enumValue;
  if ('list' in value) return `[${value.list.map(printLiteral).join(', ')}]`;
  return `{${value.object.map(([key, v]) => `${key}: ${printLiteral(v)}`).join(', ')}}`;
}

const fromJson = (json: unknown): Value =>
  Array.isArray(json)
    ? { list: json.map(fromJson) }
    : json && typeof json === 'object'
      ? { object: Object.entries(json).map(([k, v]) => [k, fromJson(v)]) }
      : { leaf: JSON.stringify(json) };

// ── Ordinary values for what a case leaves alone ───────────────────────────────────────────────

/** The kind of object an ID argument names, by its name or its field's: `claimTask(agentId)` → agent. */
function idKind(name: string, field: string): string {
  const word = (name === 'id' ? field : name).toLowerCase();
  const kinds = ['task', 'agent', 'session', 'turn', 'schedule', 'memor', 'key', 'dependson', 'parent'];
  const found = kinds.find((kind) => word.includes(kind));
  return { memor: 'memory', dependson: 'task', parent: 'task' }[found ?? ''] ?? found ?? 'task';
}

let emails = 0;
const STRINGS: Record<string, () => string> = {
  email: () => `fuzz${++emails}@example.com`,
  password: () => 'long enough password',
  cron: () => '0 9 * * 1',
  url: () => 'https://example.com/hook',
  ticker: () => `FZ${randomUUID().slice(0, 6).toUpperCase()}`,
  model: () => 'double-1',
  provider: () => 'default',
  asset: () => 'USD',
  content: () => 'hi',
};

function ordinary(type: GraphQLInputType, name: string, field: string, pick: number): Value {
  if (isNonNullType(type)) return ordinary(type.ofType, name, field, pick);
  if (isListType(type)) return { list: [] };
  if (isEnumType(type)) return { enumValue: type.getValues()[0].name };
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter(
      (f) => isNonNullType(f.type) && f.defaultValue === undefined,
    );
    return { object: fields.map((f) => [f.name, ordinary(f.type, f.name, field, pick)]) };
  }
  switch (type.name) {
    case 'ID': {
      const pool = world.ids[idKind(name, field)] ?? world.ids.task;
      return { leaf: JSON.stringify(pool[pick % pool.length]) };
    }
    case 'Int':
      return { leaf: '1' };
    case 'Float':
      return { leaf: '0.5' };
    case 'Boolean':
      return { leaf: 'false' };
    case 'BigInt':
      return { leaf: '"100"' };
    case 'DateTimeISO':
      return { leaf: JSON.stringify(new Date(Date.now() + 86_400_000).toISOString()) };
    default:
      return { leaf: JSON.stringify(STRINGS[name]?.() ?? 'fuzz') };
  }
}

// ── Cases ──────────────────────────────────────────────────────────────────────────────────────

/** A dotted path to an argument or an input field in it (`input.rewardMinor`), and its type. */
interface Slot {
  path: string[];
  type: GraphQLInputType;
}

function slotsOf(args: readonly GraphQLArgument[]): Slot[] {
  const slots: Slot[] = [];
  const walk = (path: string[], type: GraphQLInputType, depth: number) => {
    slots.push({ path, type });
    const named = getNamedType(type);
    if (depth < 2 && isInputObjectType(named))
      for (const f of Object.values(named.getFields())) walk([...path, f.name], f.type, depth + 1);
  };
  for (const arg of args) walk([arg.name], arg.type, 0);
  return slots;
}

/** Puts `value` at `path` inside `into` (an object value), creating the objects on the way. */
function place(into: Value, path: string[], value: Value): Value {
  if (!('object' in into)) return place({ object: [] }, path, value);
  const [key, ...rest] = path;
  const entries = into.object.filter(([k]) => k !== key);
  const current = into.object.find(([k]) => k === key)?.[1] ?? { object: [] };
  return { object: [...entries, [key, rest.length ? place(current, rest, value) : value]] };
}

/** A selection that reads the field's own scalars, so their serialization runs too. */
function selectionOf(field: GraphQLField<unknown, unknown>): string {
  const type = getNamedType(field.type);
  if (isLeafType(type)) return '';
  if (!isObjectType(type) && !isInterfaceType(type)) return ' { __typename }';
  const leaves = Object.values(type.getFields())
    .filter((f) => isLeafType(getNamedType(f.type)) && f.args.every((a) => !isNonNullType(a.type)))
    .map((f) => f.name);
  return ` { __typename ${leaves.join(' ')} }`;
}

type Case = FuzzCase;

type Kind = 'query' | 'mutation' | 'subscription';

function caseOf(
  kind: Kind,
  field: GraphQLField<unknown, unknown>,
  slot: Slot | undefined,
  value: Hostile | undefined,
  literal: boolean,
  client: Client,
  pick: number,
): Case {
  let args: Value = {
    object: field.args
      .filter((a) => isNonNullType(a.type) && a.defaultValue === undefined)
      .map((a) => [a.name, ordinary(a.type, a.name, field.name, pick)]),
  };
  if (slot && value) args = place(args, slot.path, { leaf: value.json });
  const entries = 'object' in args ? args.object : [];
  const definitions = entries.map(([name]) => {
    const arg = field.args.find((a) => a.name === name)!;
    return `$${name}: ${String(arg.type)}`;
  });
  const selection = selectionOf(field);
  const query = literal
    ? `${kind} Fuzz { ${field.name}${entries.length ? `(${entries.map(([n, v]) => `${n}: ${printLiteral(v)}`).join(', ')})` : ''}${selection} }`
    : `${kind} Fuzz${definitions.length ? `(${definitions.join(', ')})` : ''} { ${field.name}${entries.length ? `(${entries.map(([n]) => `${n}: $${n}`).join(', ')})` : ''}${selection} }`;
  const body = `{"query":${JSON.stringify(query)},"variables":${literal ? '{}' : printJson(args)}}`;
  const subscription = kind === 'subscription';
  return {
    label: `${client.label}: ${kind} ${field.name}${slot ? ` ${slot.path.join('.')}` : ''} = ${value?.label ?? 'ordinary'}${literal ? ' (literal)' : ''}`,
    request: {
      method: 'POST',
      path: '/graphql',
      headers: {
        ...client.headers,
        'content-type': 'application/json',
        accept: subscription ? 'text/event-stream' : 'application/graphql-response+json',
      },
      body,
      headOnly: subscription,
      firstEventMs: 1500,
    },
    othersWork: Boolean(value?.badText || value?.label === 'unknown agent id'),
  };
}

function casesOf(kind: Kind, field: GraphQLField<unknown, unknown>): Case[] {
  const salt = `${kind} ${field.name}`;
  const values = [...HOSTILE, ...randomHostile(4, salt)];
  const targets: { slot?: Slot; value?: Hostile; literal: boolean }[] = [{ literal: false }];
  for (const slot of slotsOf(field.args))
    for (const value of values)
      for (const literal of [false, true])
        // A megabyte written into the query text is refused by the token limit before anything else.
        if (!(literal && value.json.length > 10_000)) targets.push({ slot, value, literal });
  // Subscriptions are the caller's own events (no admin-only ones), and each waits for its first event.
  return casesByClient(
    targets,
    salt,
    world,
    (target, client, index) => caseOf(kind, field, target.slot, target.value, target.literal, client, index),
    { admin: kind !== 'subscription' },
  );
}

/** What /graphql is sent besides operations: broken transports, encodings and sizes. */
function transportCases(client: Client): Case[] {
  const json = { ...client.headers, 'content-type': 'application/json', accept: 'application/json' };
  const post = (label: string, body: string | Buffer, headers: Record<string, string> = json): Case => ({
    label: `${client.label}: ${label}`,
    request: { method: 'POST', path: '/graphql', headers, body },
    othersWork: false,
  });
  const get = (label: string, search: string): Case => ({
    label: `${client.label}: GET ${label}`,
    request: {
      method: 'GET',
      path: `/graphql?${search}`,
      headers: { ...client.headers, accept: 'application/json' },
    },
    othersWork: false,
  });
  const typename = encodeURIComponent('{ __typename }');
  const nearlyFull = (() => {
    const shell = JSON.stringify({
      query: 'query ($s: String!) { agentByTicker(ticker: $s) { id } }',
      variables: { s: '' },
    });
    return shell.replace('"s":""', `"s":"${'x'.repeat(MAX_BODY_BYTES - shell.length - 1)}"`);
  })();
  return [
    get('variables that are not JSON', `query=${typename}&variables=%7Bnope`),
    get('variables that are an array', `query=${typename}&variables=%5B%5D`),
    get('variables that are a string', `query=${typename}&variables=%22x%22`),
    get('extensions that are not JSON', `query=${typename}&extensions=%7B`),
    get('an empty query', 'query='),
    get('no query', 'operationName=x'),
    get('a mutation', `query=${encodeURIComponent('mutation { openLedgerAccount(asset: "USD") { id } }')}`),
    get('a lone surrogate', 'query=%ED%A0%80'),
    get('a NUL', `query=${encodeURIComponent('{ __typename }\u0000')}`),
    post('a body that is not JSON', '{"query":'),
    post('an empty body', ''),
    post('an array', '[]'),
    post('a batch', '[{"query":"{ __typename }"}]'),
    post('a string', '"text"'),
    post('null', 'null'),
    post('1e400', '1e400'),
    post('a query that is a number', '{"query":1}'),
    post('variables that are an array', '{"query":"{ __typename }","variables":[]}'),
    post('variables that are a string', '{"query":"{ __typename }","variables":"x"}'),
    post('extensions that are a number', '{"query":"{ __typename }","extensions":1}'),
    post('an operation name that is an object', '{"query":"{ __typename }","operationName":{}}'),
    post('a __proto__ key', '{"query":"{ __typename }","__proto__":{"query":"mutation { x }"}}'),
    post('a raw NUL byte', '{"query":"{ __typename \u0000 }"}'),
    post('a lone surrogate in the query', '{"query":"{ \\ud800 }"}'),
    post('a lone surrogate in a literal', '{"query":"{ agentByTicker(ticker: \\"\\\\ud800\\") { id } }"}'),
    post(
      'invalid UTF-8',
      Buffer.from([0x7b, 0x22, 0x71, 0x75, 0x65, 0x72, 0x79, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    ),
    post('a byte order mark', '\ufeff{"query":"{ __typename }"}'),
    post(
      'deep nesting',
      JSON.stringify({ query: `{${'__typename '.repeat(1)}${'{'.repeat(2000)}${'}'.repeat(2000)}}` }),
    ),
    post(
      'many aliases',
      JSON.stringify({
        query: `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: __typename`).join(' ')} }`,
      }),
    ),
    post('a body just under 1 MiB', nearlyFull),
    post(
      'a body over 1 MiB',
      JSON.stringify({ query: '{ __typename }', variables: { s: 'x'.repeat(MAX_BODY_BYTES) } }),
    ),
    post('text/plain', '{"query":"{ __typename }"}', { ...json, 'content-type': 'text/plain' }),
    post('a form', 'query=%7B__typename%7D', {
      ...json,
      'content-type': 'application/x-www-form-urlencoded',
    }),
    post('no content type', '{"query":"{ __typename }"}', { ...client.headers, accept: 'application/json' }),
    post('Accept: image/png', '{"query":"{ __typename }"}', { ...json, accept: 'image/png' }),
    post('a Content-Length shorter than the body', '{"query":"{ __typename }"}', {
      ...json,
      'content-length': '5',
    }),
    {
      label: `${client.label}: PUT`,
      request: { method: 'PUT', path: '/graphql', headers: json, body: '{"query":"{ __typename }"}' },
      othersWork: false,
    },
  ];
}

// ── Running ────────────────────────────────────────────────────────────────────────────────────

const rootOf = (kind: Kind) =>
  ({
    query: schema.getQueryType(),
    mutation: schema.getMutationType(),
    subscription: schema.getSubscriptionType(),
  })[kind];

/** GraphQL's own error format, in the answer or in the first event of a subscription's stream. */
function problemsOf(answer: Answer): string[] {
  const streaming = /text\/event-stream/.test(String(answer.headers['content-type']));
  const problems = graphqlProblems(streaming ? firstEvent(answer) : answer);
  return problems.map((p) => `${p} (${answer.status}: ${clip(answer.text, 160)})`);
}

const run = (cases: Case[]) => runCases(world.t.url, cases, problemsOf);

test('no root field answers a 5xx or INTERNAL_SERVER_ERROR, whatever its arguments', async () => {
  const cases: Case[] = [];
  for (const kind of ['query', 'mutation', 'subscription'] as const)
    for (const field of Object.values(rootOf(kind)?.getFields() ?? {})) cases.push(...casesOf(kind, field));
  const { failures, statuses } = await run(cases);
  console.log(`GraphQL fuzz: ${cases.length} requests, statuses ${JSON.stringify(statuses)}`);
  expect(failures).toEqual([]);
}, 600_000);

test('/graphql answers every malformed request with a GraphQL error body and a 4xx', async () => {
  const { failures } = await run(clientsOf(world).flatMap(transportCases));
  expect(failures).toEqual([]);
}, 120_000);

test('every BigInt argument and input field refuses values outside a signed 64-bit integer', async () => {
  const [user] = clientsOf(world);
  const outside = [raw('2^63', '"9223372036854775808"'), raw('-2^63-1', '"-9223372036854775809"')];
  const cases: Case[] = [];
  for (const kind of ['query', 'mutation'] as const)
    for (const field of Object.values(rootOf(kind)?.getFields() ?? {}))
      for (const slot of slotsOf(field.args).filter((s) => getNamedType(s.type).name === 'BigInt'))
        for (const value of outside)
          for (const literal of [false, true]) cases.push(caseOf(kind, field, slot, value, literal, user, 0));
  expect(cases.length).toBeGreaterThan(0);
  const { failures } = await runCases(world.t.url, cases, (answer) => {
    const codes = (
      (parseJson(answer.text) as { errors?: { extensions?: { code?: string } }[] }).errors ?? []
    ).map((e) => e.extensions?.code);
    return codes.length &&
      codes.every((code) => code === 'BAD_USER_INPUT' || code === 'GRAPHQL_VALIDATION_FAILED')
      ? []
      : [`answered ${answer.status} ${clip(answer.text)}`];
  });
  expect(failures).toEqual([]);
}, 60_000);
