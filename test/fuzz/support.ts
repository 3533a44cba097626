/**
 * Hostile input for every route and root field, and the checks every answer must pass. Values are
 * kept as raw JSON text so that what JavaScript cannot hold (1e400, a lone surrogate escape) reaches
 * the server exactly as an attacker would write it.
 */
import fc from 'fast-check';
import { appendFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { MAX_BODY_BYTES } from '../../lib';
import {
  ChatDocument,
  CreateAgentDocument,
  CreateApiKeyDocument,
  CreateScheduleDocument,
  CreateTaskDocument,
  StoreMemoryDocument,
} from '../generated/graphql';
import { DOUBLE_MODELS, startLlmDouble, useUpstream, type LlmDouble } from '../support/llm-double';
import {
  startTestPlatform,
  type Client as PlatformClient,
  type TestPlatform,
  type User,
} from '../support/platform';
import { registerAdmin } from '../tasks.support';

/** Cases per route or field, and the seed of their choice: `npm run fuzz` raises FUZZ_RUNS. */
export const RUNS = Number(process.env.FUZZ_RUNS ?? 6);
export const SEED = Number(process.env.FUZZ_SEED ?? 20250601);

export interface Hostile {
  label: string;
  /** The value as JSON text. */
  json: string;
  /** The value in a URL, already percent-encoded (undefined: not sent in URLs). */
  url?: string;
  /** Left in the test for the edge string check that another change adds (NUL, lone surrogates). */
  badText?: boolean;
}

const text = (label: string, value: string, badText = false): Hostile => ({
  label,
  json: JSON.stringify(value),
  url: encodeURIComponent(value),
  badText,
});
export const raw = (label: string, json: string, url?: string, badText = false): Hostile => ({
  label,
  json,
  url,
  badText,
});

const MEGABYTE = 1024 * 1024;
const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

export const HOSTILE: Hostile[] = [
  text('empty string', ''),
  text('blank', '   '),
  raw('NUL', '"\\u0000"', '%00', true),
  raw('NUL inside', '"ab\\u0000cd"', 'ab%00cd', true),
  raw('lone high surrogate', '"\\ud800"', '%ED%A0%80', true),
  raw('lone low surrogate', '"x\\udfffy"', 'x%ED%BF%BFy', true),
  raw('1 MB string', JSON.stringify('x'.repeat(MEGABYTE - 64)), encodeURIComponent('x'.repeat(6000))),
  text('__proto__', '__proto__'),
  text('constructor', 'constructor'),
  text('toString', 'toString'),
  text('hasOwnProperty', 'hasOwnProperty'),
  text('bare prefix id', 'task_'),
  text('unknown agent id', 'agt_01jzzzzzzzzzzzzzzzzzzzzzzz'),
  text('path traversal', '../../etc/passwd'),
  text('SQL', "' OR 1=1 --"),
  text('emoji', '🙂'),
  raw('badly encoded', '"%ff%fe"', '%ff%fe'),
  raw('zero', '0'),
  raw('negative', '-1'),
  raw('fraction', '1.5'),
  raw('negative fraction', '-0.01'),
  raw('past 2^31', '2147483648'),
  raw('past 2^53', '9007199254740993'),
  raw('1e400', '1e400', '1e400'),
  raw('-1e400', '-1e400', '-1e400'),
  raw('1e-400', '1e-400', '1e-400'),
  raw('20 nines', '99999999999999999999', '99999999999999999999'),
  text('20 nines as text', '99999999999999999999'),
  text('2^63', '9223372036854775808'),
  text('-2^63-1', '-9223372036854775809'),
  text('10^10 as text', '10000000000'),
  text('exponent text', '1e3'),
  text('hex text', '0x10'),
  text('NaN text', 'NaN'),
  text('Infinity text', 'Infinity'),
  raw('true', 'true', 'true'),
  raw('null', 'null', 'null'),
  raw('empty array', '[]'),
  raw('mixed array', '["a",1,null]'),
  raw('empty object', '{}'),
  raw('__proto__ object', '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
  raw('deep array', deep(512)),
];

/** Whole bodies that are not what a route reads: sent instead of the JSON object it expects. */
export interface BodyVariant {
  label: string;
  body: Buffer | string;
  contentType?: string;
}

export const BODY_VARIANTS: BodyVariant[] = [
  { label: 'not JSON', body: '{"a":', contentType: 'application/json' },
  { label: 'a word', body: 'nope', contentType: 'application/json' },
  { label: 'an array', body: '[{}]', contentType: 'application/json' },
  { label: 'a string', body: '"text"', contentType: 'application/json' },
  { label: 'a number', body: '1e400', contentType: 'application/json' },
  { label: 'null', body: 'null', contentType: 'application/json' },
  { label: 'a raw NUL byte', body: '{"x":"a\u0000b"}', contentType: 'application/json' },
  {
    label: 'invalid UTF-8',
    body: Buffer.from([0x7b, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    contentType: 'application/json',
  },
  { label: 'a byte order mark', body: '\ufeff{}', contentType: 'application/json' },
  { label: 'JSON as text/plain', body: '{}', contentType: 'text/plain' },
  { label: 'JSON without a content type', body: '{}' },
  { label: 'a form', body: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded' },
  { label: 'over 1 MiB', body: `{"x":"${'x'.repeat(MAX_BODY_BYTES)}"}`, contentType: 'application/json' },
];

/** A body of `fields` (JSON texts) with one string grown until the whole is just under 1 MiB. */
export function nearlyFullBody(fields: Record<string, string>, grow: string): string {
  const without = objectText({ ...fields, [grow]: '""' });
  return objectText({ ...fields, [grow]: JSON.stringify('x'.repeat(MAX_BODY_BYTES - without.length - 16)) });
}

/** A JSON object from already-encoded member values. */
export const objectText = (members: Record<string, string>) =>
  `{${Object.entries(members)
    .map(([key, value]) => `${JSON.stringify(key)}:${value}`)
    .join(',')}}`;

/** Seeded choice of `count` cases out of `all` (all of them when there are fewer). */
export function sample<T>(all: T[], count: number, salt: string): T[] {
  if (all.length <= count) return all;
  let seed = SEED;
  for (const char of salt) seed = (seed * 31 + char.charCodeAt(0)) | 0;
  const [picked] = fc.sample(fc.shuffledSubarray(all, { minLength: count, maxLength: count }), {
    seed,
    numRuns: 1,
  });
  return picked;
}

/** Random values fast-check makes, beyond the fixed list: any JSON, any text, any big integer. */
export function randomHostile(count: number, salt: string): Hostile[] {
  let seed = SEED;
  for (const char of salt) seed = (seed * 17 + char.charCodeAt(0)) | 0;
  const value = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }).map((s) => text(`random text ${JSON.stringify(s)}`, s)),
    fc.bigInt().map((n) => raw(`random integer ${n}`, String(n), String(n))),
    fc.double().map((n) => {
      const json = Number.isFinite(n) ? JSON.stringify(n) : '1e999';
      return raw(`random number ${json}`, json, json);
    }),
    fc.jsonValue({ maxDepth: 3 }).map((v) => raw(`random JSON ${JSON.stringify(v)}`, JSON.stringify(v))),
  );
  return fc.sample(value, { seed, numRuns: count });
}

// ── Answers ────────────────────────────────────────────────────────────────────────────────────

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Stop reading an event stream after its headers, or after its first event within this many ms. */
  headOnly?: boolean;
  firstEventMs?: number;
}

/**
 * One request over node:http, so that a client may send what fetch would refuse: a lying
 * Content-Length, bytes that are not UTF-8, percent-encoding that does not decode.
 */
export function send(base: string, request: RawRequest, timeoutMs = 30_000): Promise<Answer> {
  const url = new URL(base);
  const body = typeof request.body === 'string' ? Buffer.from(request.body) : request.body;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: request.path,
        headers: {
          ...(body ? { 'content-length': String(body.length) } : {}),
          ...request.headers,
        },
        timeout: timeoutMs,
        // A fresh connection each time: a kept-alive one the server just closed would read as a reset.
        agent: false,
      },
      (res) => {
        const answer = (text: string) => resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
        const streaming = /text\/event-stream/.test(String(res.headers['content-type']));
        const chunks: Buffer[] = [];
        const stop = () => {
          answer(Buffer.concat(chunks).toString('utf8'));
          res.destroy();
        };
        if (request.headOnly && streaming && !request.firstEventMs) return stop();
        // An event stream stays open: its first event (a data line and a blank line) is enough.
        if (streaming) setTimeout(stop, request.firstEventMs ?? timeoutMs).unref();
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          if (streaming && /^data:.*\n\n/m.test(Buffer.concat(chunks).toString('utf8'))) stop();
        });
        res.on('end', () => answer(Buffer.concat(chunks).toString('utf8')));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

// ── Documented error shapes ────────────────────────────────────────────────────────────────────

export type JsonSchema = Record<string, unknown>;

/** Whether `value` fits a schema of the kind openapi.ts infers (type, properties, required). */
export function fits(value: unknown, schema: JsonSchema): boolean {
  if (Array.isArray(schema.anyOf)) return schema.anyOf.some((s) => fits(value, s as JsonSchema));
  const types = [schema.type].flat().filter(Boolean) as string[];
  if (types.length && !types.some((type) => hasType(value, type))) return false;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    for (const key of (schema.required as string[] | undefined) ?? []) if (!(key in object)) return false;
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    for (const [key, property] of Object.entries(properties))
      if (key in object && !fits(object[key], property)) return false;
  }
  return true;
}

function hasType(value: unknown, type: string): boolean {
  if (type === 'null') return value === null;
  if (type === 'array') return Array.isArray(value);
  if (type === 'object') return typeof value === 'object' && value !== null && !Array.isArray(value);
  if (type === 'integer') return Number.isInteger(value);
  return typeof value === type;
}

export const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/** The name (`message` when unnamed) and data of the first event of an event stream, if one came. */
export function firstEventOf(answer: Answer): { event: string; data: string } | undefined {
  const lines = answer.text
    .replace(/\r\n?/g, '\n')
    .split('\n\n')
    .map((block) => block.split('\n'))
    .find((block) => block.some((line) => line.startsWith('data:')));
  if (!lines) return undefined;
  const field = (name: string) =>
    lines
      .filter((line) => line.startsWith(`${name}:`))
      .map((line) => line.slice(name.length + 1).trimStart());
  return { event: field('event')[0] ?? 'message', data: field('data').join('\n') };
}

/** The JSON of the first `data:` of an event stream, as an answer of its own. */
export function firstEvent(answer: Answer): Answer {
  const data = /^data: ?(.*)$/m.exec(answer.text)?.[1];
  return { ...answer, text: data ?? '{}' };
}

/** A GraphQL answer every client can read: `{errors: [{message, extensions: {code}}]}` when refused. */
export function graphqlProblems(answer: Answer): string[] {
  const problems: string[] = [];
  if (answer.status >= 500) problems.push(`status ${answer.status}`);
  const body = parseJson(answer.text) as { data?: unknown; errors?: unknown } | undefined;
  if (!body || typeof body !== 'object') return [...problems, `body is not JSON: ${clip(answer.text)}`];
  if (answer.status >= 400 && !Array.isArray(body.errors)) problems.push('a refusal without errors');
  for (const error of (body.errors ?? []) as { message?: unknown; extensions?: { code?: unknown } }[]) {
    if (typeof error.message !== 'string') problems.push('an error without a message');
    const code = error.extensions?.code;
    if (typeof code !== 'string') problems.push(`an error without a code: ${clip(String(error.message))}`);
    else if (code === 'INTERNAL_SERVER_ERROR')
      problems.push(`INTERNAL_SERVER_ERROR: ${clip(String(error.message))}`);
  }
  return problems;
}

export const clip = (text: string, length = 200) =>
  text.length > length ? `${text.slice(0, length)}… (${text.length} chars)` : text;

/** Runs `work` over `items`, `width` at a time. */
export async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

// ── The world the fuzz runs in ─────────────────────────────────────────────────────────────────

/** Ids of real objects, the caller's own and another account's, to put where a route wants an id. */
export type IdPool = Record<string, string[]>;

/** One account's agent, task, session with a turn, schedule, memory and API key. */
async function furnish(user: User, name: string): Promise<IdPool> {
  const { createAgent } = await user.data(CreateAgentDocument, {
    input: { name, ticker: `${name.slice(0, 3).toUpperCase()}${Date.now() % 10_000}` },
  });
  const { createTask } = await user.data(CreateTaskDocument, {
    input: { title: `${name}'s task`, agentId: createAgent.id },
  });
  const { chat } = await user.data(ChatDocument, { input: { content: 'hello', model: DOUBLE_MODELS[0] } });
  const { createSchedule } = await user.data(CreateScheduleDocument, {
    input: { name, cron: '0 9 * * 1', taskTitle: 'weekly' },
  });
  const { storeMemory } = await user.data(StoreMemoryDocument, {
    input: { agentId: createAgent.id, content: 'remember this' },
  });
  const { createApiKey } = await user.data(CreateApiKeyDocument, { input: { name, scopes: ['*'] } });
  return {
    agent: [createAgent.id, createAgent.ticker],
    task: [createTask.id],
    session: [chat.sessionId],
    turn: [chat.id],
    schedule: [createSchedule.id],
    memory: [storeMemory.id],
    key: [createApiKey.apiKey.id],
  };
}

export interface World {
  t: TestPlatform;
  double: LlmDouble;
  user: User;
  /** An ADMIN account, so admin-only fields and routes meet hostile values too. */
  admin: PlatformClient;
  /** The user's objects first, then another account's. */
  ids: IdPool;
  close(): Promise<void>;
}

/** A platform with an LLM double (so chat answers), a user and another account, each with objects. */
export async function startWorld(): Promise<World> {
  const double = await startLlmDouble();
  useUpstream(double);
  const t = await startTestPlatform();
  const user = await t.register('Fuzzer');
  const other = await t.register('Bystander');
  const admin = await registerAdmin(t);
  const [mine, theirs] = [await furnish(user, 'fuzzer'), await furnish(other, 'bystander')];
  const ids = Object.fromEntries(Object.keys(mine).map((kind) => [kind, [...mine[kind], ...theirs[kind]]]));
  return {
    t,
    double,
    user,
    admin,
    ids,
    async close() {
      await t.close();
      await double.close();
    },
  };
}

/** The kind of object a path parameter names, by the segment before it: /tasks/:id → task. */
export function kindOf(segments: string[], index: number): string | undefined {
  const before = segments[index - 1] ?? '';
  const kinds: Record<string, string> = {
    tasks: 'task',
    agents: 'agent',
    agent: 'agent',
    sessions: 'session',
    turns: 'turn',
    jobs: 'schedule',
    memory: 'memory',
    'api-keys': 'key',
  };
  return kinds[before];
}

/** Where a report line came from, for failures: the client and what was hostile. */
export interface Client {
  label: string;
  headers: Record<string, string>;
}

/** The signed-in user, anonymous, a key that does not exist, and an admin. */
export const clientsOf = ({ user, admin }: Pick<World, 'user' | 'admin'>): Client[] => [
  { label: 'user', headers: { authorization: `Bearer ${user.credential}` } },
  { label: 'anonymous', headers: {} },
  { label: 'invalid key', headers: { 'x-api-key': 'agx_live_not_a_key' } },
  { label: 'admin', headers: { authorization: `Bearer ${admin.credential}` } },
];

/** One request of the fuzz and what to say about it when it fails. */
export interface FuzzCase {
  label: string;
  request: RawRequest;
  /** Left in for work under way elsewhere (the edge string check, dangling agent ids). */
  othersWork: boolean;
}

/** FUZZ_TRACE=<file> appends one line per request, to watch a long run. */
const trace = (line: string) => {
  if (process.env.FUZZ_TRACE) appendFileSync(process.env.FUZZ_TRACE, `${line}\n`);
};

/** Sends every case (three at a time) and collects what `check` finds wrong, with a status count. */
export async function runCases<C extends FuzzCase>(
  base: string,
  cases: C[],
  check: (answer: Answer, entry: C) => string[],
) {
  const failures: string[] = [];
  const statuses: Record<number, number> = {};
  await inParallel(cases, 3, async (entry) => {
    let problems: string[];
    try {
      const answer = await send(base, entry.request);
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      trace(`${answer.status} ${entry.request.method} ${entry.request.path.slice(0, 120)} (${entry.label})`);
      problems = check(answer, entry);
    } catch (error) {
      problems = [`no answer: ${(error as Error).message}`];
    }
    for (const problem of problems)
      failures.push(`${entry.othersWork ? '[work under way elsewhere] ' : ''}${entry.label}: ${problem}`);
  });
  return { failures: failures.sort(), statuses };
}

/**
 * The seeded sample of one route's or field's cases: `runs` (RUNS unless given) as the user, fewer anonymously, with a
 * bad key or as an admin (unless `admin` is false).
 */
export function casesByClient<T, C>(
  targets: T[],
  salt: string,
  world: Pick<World, 'user' | 'admin'>,
  make: (target: T, client: Client, index: number) => C,
  { admin: asAdmin = true, runs = RUNS }: { admin?: boolean; runs?: number } = {},
): C[] {
  const [signedIn, anonymous, invalid, admin] = clientsOf(world);
  const share = [
    [signedIn, runs],
    [anonymous, Math.ceil(runs / 2)],
    [invalid, Math.ceil(runs / 3)],
    ...(asAdmin ? ([[admin, Math.ceil(runs / 3)]] as const) : []),
  ] as const;
  return share.flatMap(([client, count]) =>
    sample(targets, count, `${salt} ${client.label}`).map((target, index) => make(target, client, index)),
  );
}
