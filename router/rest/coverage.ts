/**
 * How much of each reference API the tables serve, and whether every row's operation still
 * validates against the public schema. `npm run rest:coverage` prints both.
 */
import { validate, type GraphQLSchema } from 'graphql';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../lib';
import { tableProblems } from './engine';
import type { Dialect, Socket } from './types';
import { operationOf, type Sources } from './variables';

export interface DocumentedRoute {
  method: string;
  path: string;
  refs: string[];
  note?: string;
}

export type DocumentedRoutes = Record<string, DocumentedRoute[]>;

export function readDocumentedRoutes(): DocumentedRoutes {
  const file = join(projectRoot(), 'router', 'rest', 'documented-routes.json');
  const { $comment: _comment, ...routes } = JSON.parse(readFileSync(file, 'utf8')) as DocumentedRoutes & {
    $comment: string;
  };
  return routes;
}

/** `/agents/{id}/` and `/agents/:agent_id` are the same route. */
const routeKey = (path: string) => path.replace(/\{\w+\}|:\w+/g, ':').replace(/(.)\/$/, '$1');

/** `* /v1/*` (any method, any endpoint) is served by a row for `/v1/:endpoint`. */
const wildcardKey = (path: string) => routeKey(path.replace(/\/\*$/, '/:rest'));

const socketMethods = new Set(['GET', 'WS']);

export interface DialectCoverage {
  dialect: string;
  routes: (DocumentedRoute & { served: boolean })[];
  /** Served rows the documents do not name (should stay empty). */
  undocumented: string[];
  served: number;
  total: number;
}

export function coverageOf(dialect: Dialect, documented: DocumentedRoute[]): DialectCoverage {
  const served = new Set(dialect.routes.map((row) => `${row.method} ${routeKey(row.path)}`));
  const byRouter = new Set(dialect.routerRoutes ?? []);
  const sockets = new Set((dialect.sockets ?? []).map((s: Socket) => routeKey(s.path)));
  const isServed = ({ method, path }: DocumentedRoute) =>
    served.has(`${method} ${routeKey(path)}`) ||
    (method === '*' && [...served].some((key) => key.endsWith(` ${wildcardKey(path)}`))) ||
    byRouter.has(`${method} ${path}`) ||
    (socketMethods.has(method) && sockets.has(routeKey(path)));
  const routes = documented.map((route) => ({ ...route, served: isServed(route) }));
  const named = new Set(documented.map((r) => `${r.method} ${routeKey(r.path)}`));
  const wildcards = documented.filter((r) => r.method === '*').map((r) => ` ${wildcardKey(r.path)}`);
  const undocumented = [...served].filter(
    (key) => !named.has(key) && !wildcards.some((tail) => key.endsWith(tail)),
  );
  return {
    dialect: dialect.name,
    routes,
    undocumented,
    served: routes.filter((r) => r.served).length,
    total: routes.length,
  };
}

/** Every problem of every row's operation: GraphQL validation against the schema, then the variable map. */
export function operationProblems(dialects: Dialect[], schema: GraphQLSchema): string[] {
  const problems: string[] = [];
  for (const dialect of dialects) {
    const entries = [
      ...dialect.routes.map((row) => ({
        label: `${row.method} ${row.path}`,
        document: row.operation,
        sources: row.variables,
      })),
      ...(dialect.sockets ?? []).map((s) => ({
        label: `WS ${s.path}`,
        document: s.operation,
        sources: s.variables,
      })),
    ];
    for (const { label, document, sources } of entries) {
      const where = `${dialect.name} ${label}`;
      try {
        const operation = operationOf(document);
        for (const error of validate(schema, document))
          problems.push(`${where}: ${operation.name}: ${error.message}`);
        for (const problem of tableProblems(schema, operation, (sources ?? {}) as Sources))
          problems.push(`${where}: ${problem}`);
      } catch (error) {
        problems.push(`${where}: ${(error as Error).message}`);
      }
    }
  }
  return problems;
}
