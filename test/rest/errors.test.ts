/**
 * Errors per dialect: each GraphQL code's status and body, and the engine's own refusals (bad
 * JSON, wrong content type, too large, unknown route), end to end wherever a route can cause them.
 */
import { DIALECTS } from '../../router/rest/dialects';
import { fromGraphQLError, problemOf } from '../../router/rest/errors';
import type { Dialect, ErrorStyle } from '../../router/rest/types';
import { CreateApiKeyDocument } from '../generated/graphql';
import { createTask } from '../support/fixtures';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { rest, type Rest } from './support';

const dialect = (name: string) => DIALECTS.find((d) => d.name === name) as Dialect;
describe('each code maps to the dialect’s status and body', () => {
  const styles: [string, ErrorStyle, (message: string, code: string) => unknown, number][] = [
    ['hermes', dialect('hermes').errors, (message) => ({ detail: message }), 422],
    // Ironclad's json_error_layer; a refused credential as its auth middleware answers (auth.rs).
    [
      'runtime',
      dialect('runtime').errors,
      (message, code) =>
        code === 'MISSING_API_KEY' ? { error: 'unauthorized', message } : { error: message },
      400,
    ],
    ['autx', dialect('autx').errors, (message) => ({ detail: message }), 422],
    ['x402', dialect('x402').errors, (message, code) => ({ error: message, code }), 400],
  ];
  const codes: [string, number | 'input', string][] = [
    ['BAD_USER_INPUT', 'input', 'INVALID_PARAMETERS'],
    ['UNAUTHENTICATED', 401, 'MISSING_API_KEY'],
    ['PAYMENT_REQUIRED', 402, 'PAYMENT_REQUIRED'],
    ['FORBIDDEN', 403, 'FORBIDDEN'],
    ['NOT_FOUND', 404, 'NOT_FOUND'],
    ['CONFLICT', 409, 'CONFLICT'],
    ['GONE', 410, 'GONE'],
    ['RATE_LIMITED', 429, 'RATE_LIMITED'],
  ];
  describe.each(styles)('%s', (_name, style, body, inputStatus) => {
    test.each(codes)('%s', (code, status, x402Code) => {
      const problem = problemOf(
        fromGraphQLError({ message: 'it went wrong', extensions: { code } }, 200, true),
        style,
      );
      expect(problem.status).toBe(status === 'input' ? inputStatus : status);
      expect(style.body(problem)).toEqual(body('it went wrong', x402Code));
    });

    test('any other code is a 500 that says nothing of the cause', () => {
      for (const code of [
        'INTERNAL_SERVER_ERROR',
        'DOWNSTREAM_SERVICE_ERROR',
        'GRAPHQL_VALIDATION_FAILED',
        undefined,
      ]) {
        const error = { message: 'connect ECONNREFUSED 10.0.0.7:5432', extensions: code ? { code } : {} };
        const problem = problemOf(fromGraphQLError(error, 400, true), style);
        expect(problem.status).toBe(500);
        expect(JSON.stringify(style.body(problem))).not.toMatch(/ECONNREFUSED|5432/);
      }
    });
  });

  test('a code-less refusal of the edge keeps its HTTP status', () => {
    expect(fromGraphQLError({ message: 'slow down' }, 429, false).code).toBe('RATE_LIMITED');
    expect(fromGraphQLError({ message: 'who?' }, 401, false).code).toBe('UNAUTHENTICATED');
  });
});

describe('end to end', () => {
  let t: TestPlatform;
  let user: User;
  let api: Rest;
  beforeAll(async () => {
    t = await startTestPlatform();
    user = await t.register('Errors');
    api = rest(t, user.credential);
  });
  afterAll(() => t.close());

  test('missing and mistyped fields are refused before anything runs, naming the REST field', async () => {
    const before = (await api('GET', '/api/tasks')).body.total;
    const cases: [string, string, unknown, number, unknown][] = [
      ['/api/tasks', 'POST', { reward: 1 }, 422, { detail: 'title is required' }],
      [
        '/api/tasks',
        'POST',
        { title: 7, reward: 'lots' },
        422,
        { detail: expect.stringMatching(/reward must be/) },
      ],
      ['/api/tasks', 'POST', { title: 7 }, 422, { detail: 'title must be a string' }],
      ['/runtime/api/sessions', 'POST', { title: ['x'] }, 400, { error: 'title must be a string' }],
      ['/autx/v1/agents/', 'POST', { name: 'No ticker' }, 422, { detail: 'ticker is required' }],
      [
        '/x402/v1/agents',
        'POST',
        { name: 'bot', rate: 'free' },
        400,
        { error: expect.stringMatching(/^rate must be/), code: 'INVALID_PARAMETERS' },
      ],
      ['/api/tasks', 'POST', [1, 2], 422, { detail: 'request body must be a JSON object' }],
    ];
    for (const [path, method, body, status, expected] of cases) {
      const response = await api(method, path, { body });
      expect({ path, status: response.status, body: response.body }).toEqual({
        path,
        status,
        body: expected,
      });
    }
    expect((await api('GET', '/api/tasks')).body.total).toBe(before);
  });

  test('values the subgraphs refuse are the dialect’s invalid-input status with their message', async () => {
    const hermes = await api('POST', '/api/tasks', { body: { title: '   ' } });
    expect(hermes.status).toBe(422);
    expect(hermes.body).toEqual({ detail: expect.stringMatching(/^title /) });
    const autx = await api('POST', '/autx/v1/agents/', { body: { name: 'Bad', ticker: 'x' } });
    expect(autx.status).toBe(422);
    expect(autx.body).toEqual({ detail: 'ticker must be 2 to 10 letters or digits' });
    const x402 = await api('POST', '/x402/v1/agents', { body: { name: '' } });
    expect(x402.status).toBe(400);
    expect(x402.body).toEqual({ error: expect.stringMatching(/name/), code: 'INVALID_PARAMETERS' });
  });

  test('query parameters are checked too: limit, offset and enum words', async () => {
    expect((await api('GET', '/api/tasks?limit=0')).body).toEqual({
      detail: 'limit must be an integer from 1 to 100',
    });
    expect((await api('GET', '/api/tasks?limit=ten')).status).toBe(422);
    expect((await api('GET', '/api/tasks?offset=-1')).body).toEqual({
      detail: 'offset must be an integer from 0 to 10000',
    });
    expect((await api('GET', '/api/tasks?status=Done')).body).toEqual({
      detail: expect.stringMatching(/^status must be one of Open, InProgress/),
    });
    expect((await api('GET', '/x402/v1/agents?limit=500')).body).toEqual({
      error: 'limit must be an integer from 1 to 100',
      code: 'INVALID_PARAMETERS',
    });
  });

  test('no credential is 401 and a bad one too, each in its dialect’s format', async () => {
    const anonymous = rest(t);
    expect(await anonymous('GET', '/api/tasks')).toMatchObject({
      status: 401,
      body: { detail: expect.any(String) },
    });
    expect(await anonymous('GET', '/autx/v1/sessions')).toMatchObject({
      status: 401,
      body: { detail: expect.any(String) },
    });
    expect(await anonymous('GET', '/x402/v1/payments/balance')).toMatchObject({
      status: 401,
      body: { error: expect.any(String), code: 'MISSING_API_KEY' },
    });
    const forged = await rest(t, 'eyJhbGciOiJIUzI1NiJ9.e30.forged')('GET', '/api/tasks');
    expect(forged.status).toBe(401);
    expect(forged.body).toEqual({ detail: expect.stringMatching(/not valid/) });
  });

  test('a client cannot bring its own identity header', async () => {
    const { status } = await rest(t)('GET', '/api/tasks', {
      headers: { 'x-agentry-identity': 'made.up.token' },
    });
    expect(status).toBe(401);
  });

  test('a credential without the scope is 403', async () => {
    const { createApiKey } = await user.data(CreateApiKeyDocument, {
      input: { name: 'wallet only', scopes: ['wallet'] },
    });
    const keyed = rest(t, createApiKey.key);
    expect(await keyed('GET', '/api/tasks')).toMatchObject({
      status: 403,
      body: { detail: expect.any(String) },
    });
    const task = await createTask(user);
    expect(await keyed('GET', `/x402/v1/tasks/${task.id}`)).toMatchObject({
      status: 403,
      body: { error: expect.any(String), code: 'FORBIDDEN' },
    });
    expect((await keyed('GET', '/api/wallet')).status).toBe(200);
  });

  test('an unknown id is 404', async () => {
    const unknown = 'task_01m85k0yytjenhddgshb1th258';
    expect(await api('GET', `/api/tasks/${unknown}`)).toMatchObject({
      status: 404,
      body: { detail: expect.any(String) },
    });
    expect(await api('GET', `/x402/v1/tasks/${unknown}`)).toMatchObject({
      status: 404,
      body: { error: expect.any(String), code: 'NOT_FOUND' },
    });
    expect(await api('GET', '/autx/v1/agents/agt_01m85k0yytjenhddgshb1th258')).toMatchObject({
      status: 404,
      body: { detail: expect.any(String) },
    });
  });

  test('malformed JSON is 400 in every dialect', async () => {
    const raw = '{"title": ';
    const json = { 'content-type': 'application/json' };
    expect(await api('POST', '/api/tasks', { raw, headers: json })).toMatchObject({
      status: 400,
      body: { detail: 'request body is not valid JSON' },
    });
    expect(await api('POST', '/runtime/api/sessions', { raw, headers: json })).toMatchObject({
      status: 400,
      body: { error: 'request body is not valid JSON' },
    });
    expect(await api('POST', '/autx/v1/agents/', { raw, headers: json })).toMatchObject({
      status: 400,
      body: { detail: 'request body is not valid JSON' },
    });
    const x402 = await api('POST', '/x402/v1/agents', { raw, headers: json });
    expect(x402).toMatchObject({
      status: 400,
      body: { error: 'request body is not valid JSON', code: 'INVALID_REQUEST' },
    });
    expect(x402.headers.get('x-payment-protocol')).toBe('x402/1.0');
  });

  test('a body that is not JSON is 415 (hermes) or 400 (autx, x402)', async () => {
    const form = { raw: 'title=Summarise', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    expect(await api('POST', '/api/tasks', form)).toMatchObject({
      status: 415,
      body: { detail: expect.any(String) },
    });
    expect(await api('POST', '/runtime/api/sessions', form)).toMatchObject({
      status: 415,
      body: { error: expect.any(String) },
    });
    expect(await api('POST', '/autx/v1/agents/', form)).toMatchObject({
      status: 400,
      body: { detail: expect.any(String) },
    });
    expect(await api('POST', '/x402/v1/agents', form)).toMatchObject({
      status: 400,
      body: { error: expect.any(String), code: 'INVALID_CONTENT_TYPE' },
    });
  });

  test('a body over 1 MB is 413 in every dialect, and nothing is written', async () => {
    const before = (await api('GET', '/api/tasks')).body.total;
    const body = { title: 'Huge', description: 'x'.repeat(1_100_000) };
    expect(await api('POST', '/api/tasks', { body })).toMatchObject({
      status: 413,
      body: { detail: expect.stringMatching(/larger than/) },
    });
    expect(await api('POST', '/autx/v1/agents/', { body })).toMatchObject({
      status: 413,
      body: { detail: expect.any(String) },
    });
    const x402 = await api('POST', '/x402/v1/agents', { body });
    expect(x402).toMatchObject({
      status: 413,
      body: { error: expect.any(String), code: 'PAYLOAD_TOO_LARGE' },
    });
    expect(x402.headers.get('x-payment-protocol')).toBe('x402/1.0');
    expect((await api('GET', '/api/tasks')).body.total).toBe(before);
  });

  test('a chunked body (no Content-Length) is read like any other', async () => {
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"title": "Chunked'));
        controller.enqueue(new TextEncoder().encode('", "reward": "2.50"}'));
        controller.close();
      },
    });
    const response = await fetch(`${t.url}/api/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.credential}`, 'content-type': 'application/json' },
      body: chunks,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ title: 'Chunked', status: 'Open' });
  });

  test('an unknown route below a mount is 404 in the dialect’s format; outside, REST stays out', async () => {
    expect(await api('GET', '/api/nothing-here')).toMatchObject({
      status: 404,
      body: { detail: expect.any(String) },
    });
    expect(await api('GET', '/autx/v1/nothing')).toMatchObject({
      status: 404,
      body: { detail: expect.any(String) },
    });
    expect(await api('GET', '/x402/v1/nothing')).toMatchObject({
      status: 404,
      body: { error: expect.any(String), code: 'NOT_FOUND' },
    });
    expect(await api('GET', '/api/tasks/%E0%A4%A')).toMatchObject({
      status: 400,
      body: { detail: expect.any(String) },
    });
    const outside = await api('GET', '/nothing-here');
    expect(outside.status).toBe(404);
    expect(outside.body?.detail).toBeUndefined();
  });

  test('a subgraph that is down is a 500 that leaks nothing (last: it stops the wallet)', async () => {
    await t.platform.subgraphs.find((s) => s.name === 'wallet')!.close();
    const hermes = await api('GET', '/api/wallet');
    expect(hermes.status).toBe(500);
    expect(hermes.body).toEqual({ detail: 'Internal server error' });
    const x402 = await api('GET', '/x402/v1/payments/balance');
    expect(x402.body).toEqual({ error: 'Internal server error', code: 'INTERNAL_ERROR' });
    expect(t.logs.some((line) => line.msg === 'REST request failed')).toBe(true);
  });
});

describe('rate limits', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform({ RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(() => t.close());

  test('past the limit each dialect answers 429 in its format, with Retry-After', async () => {
    const anonymous = rest(t);
    for (let i = 0; i < 3; i++) expect((await anonymous('GET', '/x402/v1/api/health')).status).toBe(200);
    const x402 = await anonymous('GET', '/x402/v1/api/health');
    expect(x402.status).toBe(429);
    expect(x402.body).toEqual({ error: expect.any(String), code: 'RATE_LIMITED' });
    expect(x402.headers.get('x-payment-protocol')).toBe('x402/1.0');
    expect(Number(x402.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await anonymous('GET', '/autx/v1/agents/')).toMatchObject({
      status: 429,
      body: { detail: expect.any(String) },
    });
    expect(await anonymous('GET', '/runtime/api/health')).toMatchObject({
      status: 429,
      body: { error: expect.any(String) },
    });
  });
});
