/**
 * The GraphQL half of the fuzz: the schema the router introspects, and the operations that put one
 * hostile value into an argument or input field of a root field (as a variable or as a literal).
 * Shared by the fuzz and the write-integrity test.
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
import {
  casesByClient,
  HOSTILE,
  parseJson,
  randomHostile,
  send,
  type Client,
  type FuzzCase,
  type Hostile,
  type IdPool,
  type World,
} from './support';

/** The router's schema, as a signed-in user introspects it. */
export async function introspect(world: Pick<World, 't' | 'user'>): Promise<GraphQLSchema> {
  const answer = await send(world.t.url, {
    method: 'POST',
    path: '/graphql',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${world.user.credential}` },
    body: JSON.stringify({ query: getIntrospectionQuery() }),
  });
  return buildClientSchema((parseJson(answer.text) as { data: IntrospectionQuery }).data);
}

/** The root type of one kind of operation. */
export const rootOf = (schema: GraphQLSchema, kind: Kind) =>
  ({
    query: schema.getQueryType(),
    mutation: schema.getMutationType(),
    subscription: schema.getSubscriptionType(),
  })[kind];

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

function ordinary(ids: IdPool, type: GraphQLInputType, name: string, field: string, pick: number): Value {
  if (isNonNullType(type)) return ordinary(ids, type.ofType, name, field, pick);
  if (isListType(type)) return { list: [] };
  if (isEnumType(type)) return { enumValue: type.getValues()[0].name };
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter(
      (f) => isNonNullType(f.type) && f.defaultValue === undefined,
    );
    return { object: fields.map((f) => [f.name, ordinary(ids, f.type, f.name, field, pick)]) };
  }
  switch (type.name) {
    case 'ID': {
      const pool = ids[idKind(name, field)] ?? ids.task;
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
export interface Slot {
  path: string[];
  type: GraphQLInputType;
}

export function slotsOf(args: readonly GraphQLArgument[]): Slot[] {
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

export type Case = FuzzCase;

export type Kind = 'query' | 'mutation' | 'subscription';

export function caseOf(
  world: Pick<World, 'ids'>,
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
      .map((a) => [a.name, ordinary(world.ids, a.type, a.name, field.name, pick)]),
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

export function casesOf(
  world: Pick<World, 'ids' | 'user' | 'admin'>,
  kind: Kind,
  field: GraphQLField<unknown, unknown>,
  runs?: number,
): Case[] {
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
    (target, client, index) =>
      caseOf(world, kind, field, target.slot, target.value, target.literal, client, index),
    { admin: kind !== 'subscription', runs },
  );
}
