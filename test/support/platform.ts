import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { Writable } from 'node:stream';
import {
  createLogger,
  IDENTITY_HEADER,
  loadConfig,
  randomSecret,
  ROUTER_PRINCIPAL,
  signIdentity,
  type Logger,
} from '../../lib';
import { startPlatform, type Platform } from '../../launcher/platform';
import { RegisterDocument } from '../generated/graphql';
import type { Secrets } from '../../router/gateway';
import { createTestDatabase } from './database';
import { preparedRun } from './prepared';

export { createTestDatabase };

export interface GraphQLResponse<T> {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

/** Calls the router as one caller: anonymous, or with a credential sent as a Bearer token. */
export interface Client {
  /** The Bearer credential (access token or API key), if any. */
  credential?: string;
  request<T, V>(
    document: TypedDocumentNode<T, V>,
    variables?: V,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<T>>;
  /** Like request, but fails the test on any GraphQL error and returns the data. */
  data<T, V>(document: TypedDocumentNode<T, V>, variables?: V): Promise<T>;
}

export interface User extends Client {
  id: string;
  email: string;
  password: string;
  refreshToken: string;
}

export interface TestPlatform extends Client {
  url: string;
  graphqlUrl: string;
  wsUrl: string;
  platform: Platform;
  databaseUrl: string;
  secrets: Secrets;
  supergraph: string;
  log: Logger;
  /** Every JSON log line the platform wrote, for assertions on logging. */
  logs: Record<string, unknown>[];
  client(credential?: string): Client;
  /** Registers a new account through the API and returns a client signed in as it. */
  register(displayName?: string): Promise<User>;
  close(): Promise<void>;
}

function captureLogs(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  // The platform's own logger, so its lines also reach the log ring /api/logs reads.
  return { log: createLogger('agentry', 'debug', sink), lines };
}

/**
 * A whole platform (six subgraphs and the router) on a fresh database of its own, or on a kept
 * database (`keep`, created when absent and left in place on close) for benchmarks that reuse a
 * large generated dataset across runs.
 */
export async function startTestPlatform(
  env: NodeJS.ProcessEnv = {},
  { keep }: { keep?: string } = {},
): Promise<TestPlatform> {
  const { supergraph, template } = await preparedRun();
  const database = await createTestDatabase(keep, template);
  const databaseUrl = database.url;

  // Rate limits get a test of their own; everywhere else they would only slow the suite.
  const config = loadConfig({ PORT: '0', RATE_LIMIT_PER_MINUTE: '1000000', ...env });
  // Subgraphs read the switch from the process's environment on each use; users the tests register
  // act at once, and the e-mail verification tests turn it on for themselves.
  process.env.REQUIRE_VERIFIED_EMAIL ??= 'false';
  const secrets: Secrets = { jwt: randomSecret(), internal: randomSecret() };
  const { log, lines } = captureLogs();
  const platform = await startPlatform({ config, databaseUrl, supergraph, secrets, log });
  const url = platform.router.url;

  const client = (credential?: string): Client => {
    const request: Client['request'] = async (document, variables, headers = {}) => {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          ...(credential ? { authorization: `Bearer ${credential}` } : {}),
          ...headers,
        },
        body: JSON.stringify({ query: print(document), variables }),
      });
      return { status: response.status, headers: response.headers, body: await response.json() };
    };
    return {
      credential,
      request,
      async data(document, variables) {
        const { status, body } = await request(document, variables);
        if (status !== 200 || body.errors || !body.data)
          throw new Error(`GraphQL failed (${status}): ${JSON.stringify(body)}`);
        return body.data;
      },
    };
  };
  const anonymous = client();
  let registered = 0;

  return {
    ...anonymous,
    url,
    graphqlUrl: `${url}/graphql`,
    wsUrl: `${url.replace(/^http/, 'ws')}/graphql`,
    platform,
    databaseUrl,
    secrets,
    supergraph,
    log,
    logs: lines,
    client,
    async register(displayName = 'Ada') {
      const email = `user${++registered}@example.com`;
      const password = `correct horse ${registered}`;
      const { register } = await anonymous.data(RegisterDocument, {
        input: { email, password, displayName },
      });
      return {
        ...client(register.accessToken),
        id: register.account.id,
        email,
        password,
        refreshToken: register.refreshToken,
      };
    },
    async close() {
      await platform.close();
      await database.drop();
    },
  };
}

/**
 * Sum of SQL statements the subgraphs (all, or those named) have run, read from their /metrics
 * endpoints (as the router).
 */
export async function sqlStatements(
  { platform, secrets }: Pick<TestPlatform, 'platform' | 'secrets'>,
  only?: readonly string[],
) {
  const headers = { [IDENTITY_HEADER]: signIdentity(ROUTER_PRINCIPAL, secrets.internal) };
  const counted = platform.subgraphs.filter((subgraph) => !only || only.includes(subgraph.name));
  const counts = await Promise.all(
    counted.map(async (subgraph) => {
      const text = await (await fetch(new URL('/metrics', subgraph.url), { headers })).text();
      const match = /agentry_sql_statements_total\{subgraph="\w+"\} (\d+)/.exec(text);
      if (!match) throw new Error(`no SQL counter on ${subgraph.name}/metrics`);
      return Number(match[1]);
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * The SQL statements one call runs in the subgraphs it reaches (`only`; default all), with its last
 * answer. Background jobs (the wallet's hold sweeper every second, reconcilers) share the counters
 * and can only add to them, so the least of five runs is the call's own count; naming the
 * subgraphs keeps the others' jobs out (on a loaded machine they ran during all five).
 */
export async function leastSqlStatements<T>(
  platform: Pick<TestPlatform, 'platform' | 'secrets'>,
  call: () => Promise<T>,
  only?: readonly string[],
) {
  let statements = Infinity;
  let result!: T;
  for (let run = 0; run < 5; run++) {
    const before = await sqlStatements(platform, only);
    result = await call();
    statements = Math.min(statements, (await sqlStatements(platform, only)) - before);
  }
  return { statements, result };
}
