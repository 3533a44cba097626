/**
 * Every root field of the schema the router introspects, with hostile values in each argument and
 * input field (as variables, and written into the query as literals), and /graphql itself sent
 * what a careless or hostile client sends. No answer may be a 5xx or INTERNAL_SERVER_ERROR, and
 * every refusal is `{errors: [{message, extensions: {code}}]}`.
 */
import { getNamedType, type GraphQLSchema } from 'graphql';
import { MAX_BODY_BYTES } from '../../lib';
import {
  clientsOf,
  clip,
  firstEvent,
  graphqlProblems,
  parseJson,
  raw,
  runCases,
  startWorld,
  type Answer,
  type Client,
  type World,
} from './support';
import { caseOf, casesOf, introspect, rootOf, slotsOf, type Case } from './graphql.support';

let world: World;
let schema: GraphQLSchema;

beforeAll(async () => {
  world = await startWorld();
  schema = await introspect(world);
}, 120_000);
afterAll(() => world?.close());

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
    for (const field of Object.values(rootOf(schema, kind)?.getFields() ?? {}))
      cases.push(...casesOf(world, kind, field));
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
    for (const field of Object.values(rootOf(schema, kind)?.getFields() ?? {}))
      for (const slot of slotsOf(field.args).filter((s) => getNamedType(s.type).name === 'BigInt'))
        for (const value of outside)
          for (const literal of [false, true])
            cases.push(caseOf(world, kind, field, slot, value, literal, user, 0));
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
