/** Mounts from configuration, the generated OpenAPI documents and reference page, and coverage. */
import { parse } from 'graphql';
import pino from 'pino';
import { loadConfig } from '../../lib';
import { coverageOf, operationProblems, readDocumentedRoutes } from '../../router/rest/coverage';
import { DIALECTS } from '../../router/rest/dialects';
import { createRestFacade } from '../../router/rest';
import { route, type Dialect } from '../../router/rest/types';
import { loadApiSchema } from '../../router/rest/variables';
import { startTestPlatform, type TestPlatform } from '../support/platform';
import { rest } from './support';

describe('with mounts from configuration', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform({
      REST_MOUNT_X402: '/v1',
      REST_MOUNT_AUTX: '/market/v1',
      REST_MOUNT_RUNTIME: '/ironclad',
    });
  });
  afterAll(() => t.close());

  test('each dialect answers at its configured mount and nowhere else', async () => {
    const x402 = await rest(t)('GET', '/v1/api/health');
    expect(x402.status).toBe(200);
    expect(x402.headers.get('x-payment-protocol')).toBe('x402/1.0');
    expect((await rest(t)('GET', '/market/v1/agents/')).status).toBe(200);
    const old = await rest(t)('GET', '/x402/v1/api/health');
    expect(old.status).toBe(404);
    expect(old.headers.get('x-payment-protocol')).toBeNull();
    const runtime = await rest(t)('GET', '/ironclad/api/health');
    expect(runtime.status).toBe(200);
    expect(runtime.headers.get('x-frame-options')).toBe('DENY');
    expect((await rest(t)('GET', '/runtime/api/health')).status).toBe(404);
  });

  test('/openapi/<dialect>.json documents every row at its mount, with request and response schemas', async () => {
    for (const dialect of DIALECTS) {
      const { status, body } = await rest(t)('GET', `/openapi/${dialect.name}.json`);
      expect(status).toBe(200);
      expect(body.openapi).toBe('3.1.0');
      const mount = { hermes: '', autx: '/market/v1', x402: '/v1', runtime: '/ironclad' }[dialect.name];
      for (const row of dialect.routes) {
        const path = `${mount}${row.path}`.replace(/:(\w+)/g, '{$1}');
        expect({
          path,
          method: row.method,
          documented: Boolean(body.paths[path]?.[row.method.toLowerCase()]),
        }).toEqual({
          path,
          method: row.method,
          documented: true,
        });
      }
    }
    const x402 = (await rest(t)('GET', '/openapi/x402.json')).body;
    const register = x402.paths['/v1/agents'].post;
    expect(register.requestBody.content['application/json'].schema).toMatchObject({
      properties: { name: { type: 'string' }, rate: { type: ['string', 'number'] } },
      required: ['name'],
    });
    expect(register.responses['201'].content['application/json'].example).toEqual({
      id: expect.any(String),
      name: expect.any(String),
      status: 'active',
      rate: expect.any(Number),
    });
    const task = x402.paths['/v1/tasks/{id}'].get;
    expect(Object.keys(task.responses['200'].content).sort()).toEqual([
      'application/json',
      'text/event-stream',
    ]);
    expect(task.parameters).toContainEqual({
      name: 'id',
      in: 'path',
      required: true,
      schema: { type: 'string' },
    });
    expect(x402.components.responses.Error.content['application/json'].example).toEqual({
      error: expect.any(String),
      code: 'NOT_FOUND',
    });

    const hermes = (await rest(t)('GET', '/openapi/hermes.json')).body;
    const status = hermes.paths['/api/tasks/{id}'].get.responses['200'].content['application/json'].schema;
    expect(status.properties.assigned_agent.type).toEqual(['string', 'null']);
    expect(hermes.paths['/api/tasks'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual([
      'agent',
      'limit',
      'offset',
      'status',
    ]);
    expect(hermes.paths['/api/gateway-status'].get.security).toEqual([]);
    const runtime = (await rest(t)('GET', '/openapi/runtime.json')).body;
    expect(runtime.paths['/ironclad/ws'].get.responses['101']).toBeDefined();
    expect(hermes.paths['/ws']).toBeUndefined();
  });

  test('/docs/routes is a readable page of every dialect, mount and route', async () => {
    const response = await fetch(`${t.url}/docs/routes`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    for (const text of [
      '/v1/tasks/:id/accept',
      '/market/v1/credits/balance',
      '/api/tasks/stats',
      '/openapi/autx.json',
    ]) {
      expect(html).toContain(text);
    }
  });
});

test('a mount must be a path; two dialects cannot share one', () => {
  expect(() => loadConfig({ REST_MOUNT_AUTX: 'v1/' })).toThrow(/REST_MOUNT_AUTX/);
  expect(() => loadConfig({ REST_MOUNT_X402: '/v1/' })).toThrow(/REST_MOUNT_X402/);
  const config = loadConfig({ REST_MOUNT_AUTX: '/v1', REST_MOUNT_X402: '/v1' });
  expect(() =>
    createRestFacade({
      execute: async () => new Response(),
      config,
      log: pino({ level: 'silent' }),
      version: '0',
    }),
  ).toThrow(/mounted at \/v1/);
});

describe('rest:coverage', () => {
  const documented = readDocumentedRoutes();

  test('counts the documented routes each table serves', () => {
    expect(Object.keys(documented).sort()).toEqual(['autx', 'hermes', 'runtime', 'x402']);
    for (const dialect of DIALECTS) {
      const report = coverageOf(dialect, documented[dialect.name]);
      expect(report.undocumented).toEqual([]);
      // Every row is a documented route: served counts the distinct ones.
      const distinct = new Set([
        ...dialect.routes.map((r) => `${r.method} ${r.path}`),
        ...(dialect.sockets ?? []).map((s) => `WS ${s.path}`),
        ...(dialect.routerRoutes ?? []),
      ]);
      expect(report.served).toBe(distinct.size);
    }
    const hermes = coverageOf(DIALECTS[0], [
      ...documented.hermes,
      { method: 'POST', path: '/api/not-a-route', refs: ['000'] },
    ]).routes;
    expect(hermes.find((r) => r.path === '/api/not-a-route')).toMatchObject({ served: false });
    expect(hermes.find((r) => r.path === '/api/tasks')).toMatchObject({ served: true });
    // Served by the router itself, and by the pass-through row for any other endpoint.
    expect(hermes.find((r) => r.path === '/health')).toMatchObject({ served: true });
    expect(hermes.find((r) => r.path === '/v1/*')).toMatchObject({ method: '*', served: true });
    // 002 is the runtime dialect's alone: hermes documents none of its routes.
    expect(documented.hermes.filter((r) => r.refs.includes('002'))).toEqual([]);
    expect(documented.runtime.every((r) => r.refs.join() === '002')).toBe(true);
  });

  test('every row’s operation validates; a row whose operation does not is reported', () => {
    const schema = loadApiSchema();
    expect(operationProblems(DIALECTS, schema)).toEqual([]);
    const broken: Dialect = {
      ...DIALECTS[2],
      routes: [
        route({
          method: 'GET',
          path: '/broken',
          summary: 'refers to a field the schema lacks',
          operation: parse('query Broken { agents(first: 1) { colour } }'),
        }),
        route({
          method: 'GET',
          path: '/mapped-wrong',
          summary: 'maps a variable the operation does not declare',
          operation: parse('query Fine { agents(first: 1) { totalCount } }'),
          variables: { nope: { in: 'query', name: 'nope', read: () => 1 } } as never,
        }),
      ],
    };
    expect(operationProblems([broken], schema)).toEqual([
      expect.stringMatching(/GET \/broken: Broken: Cannot query field "colour"/),
      expect.stringMatching(/GET \/mapped-wrong: Fine declares no variable \$nope/),
    ]);
  });
});
