/**
 * Every REST route of every dialect, as its generated OpenAPI document describes it, called with
 * hostile values in each parameter and body field and with bodies that are not what it reads, as a
 * signed-in user, anonymously and with a key that does not exist. No answer may be a 5xx, and every
 * refusal must be in the error format the document gives for that route.
 */
import {
  clientsOf,
  clip,
  firstEventOf,
  fits,
  nearlyFullBody,
  parseJson,
  runCases,
  send,
  startWorld,
  type Answer,
  type World,
} from './support';
import {
  caseOf,
  casesOf,
  documentedOperations,
  ordinaryBodyValue,
  plainCase,
  type Case,
  type DocumentedOperation,
} from './rest.support';

let world: World;
/** Every documented REST operation, with the error schema documented for it. */
let operations: DocumentedOperation[];

beforeAll(async () => {
  world = await startWorld();
  operations = await documentedOperations(world.t.url);
}, 120_000);
afterAll(() => world?.close());

/** Per path: a method it does not serve (405) and a segment below it that nothing serves (404). */
function pathCases(): Case[] {
  const byPath = new Map<string, DocumentedOperation[]>();
  for (const operation of operations)
    byPath.set(operation.path, [...(byPath.get(operation.path) ?? []), operation]);
  const [user] = clientsOf(world);
  return [...byPath.values()].flatMap((same) => {
    const path = plainCase(world, same[0], user).request.path.split('?')[0];
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
  const cases = operations.flatMap((operation) => casesOf(world, operation));
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
      const { path } = plainCase(world, operation, user, pick).request;
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
    const base = plainCase(world, operation, user);
    return [{ ...base, request: { ...base.request, body: nearlyFullBody(members, grown[0]) } }];
  });
  expect((await run(cases)).failures).toEqual([]);
}, 120_000);

test('x402 refuses every route but its health check without a key (401) or with an invalid one (403)', async () => {
  const [, anonymous, invalid] = clientsOf(world);
  const answers: string[] = [];
  for (const operation of operations.filter((o) => o.dialect === 'x402' && !o.socket)) {
    for (const client of [anonymous, invalid]) {
      const answer = await send(world.t.url, plainCase(world, operation, client).request);
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
          caseOf(world, operation, { where: 'body', name, value: { label: json, json } }, user, 0),
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
