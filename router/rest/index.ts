/**
 * The REST facade: the reference APIs served as dialects of the GraphQL API. A dialect is a table
 * (router/rest/dialects); every row runs a named operation (router/rest/operations) through the
 * router in process, so authentication, limits and federation apply to REST as to GraphQL.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../lib';
import { DIALECTS } from './dialects';
import { compileDialect, createEngine, type EdgeVerdict, type Execute } from './engine';
import { splitUrl, writeJson } from './http';
import type { PaymentGate } from './mpp';
import { DOCS_ASSET_PREFIX, docsAssets, docsUiPage } from './docs-ui';
import { docsPage, openApiDocument } from './openapi';
import { createSocketServer, type Admit } from './sockets';
import type { Dialect, RestConfig } from './types';
import { loadApiSchema } from './variables';

export type { EdgeVerdict, Execute } from './engine';
export type { Admission, Admit } from './sockets';
export type { RestConfig } from './types';
export { createPaymentGate, creditsClient, payerKeyOf, type PaymentGate } from './mpp';

export interface RestFacadeOptions {
  execute: Execute;
  config: RestConfig;
  log: Logger;
  version: string;
  /** Identity and rate limit for a WebSocket upgrade, decided by the router's edge. */
  admit?: Admit;
  dialects?: Dialect[];
  /** MPP on the payable dialects (MPP_ENABLED); none leaves them as they were. */
  payments?: PaymentGate;
  /** The public API SDL; schema/api.graphql when omitted. */
  apiSchema?: string;
}

export interface RestFacade {
  /** Serves /docs (and its assets), /docs/routes, /openapi/<dialect>.json and every path a dialect owns; false for anything else. */
  handle(req: IncomingMessage, res: ServerResponse, edge?: EdgeVerdict): Promise<boolean>;
  /** Takes the upgrade of a dialect's WebSocket path; false for anything else. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Ends open streams and sockets. */
  close(): Promise<void>;
}

/** `execute` for a Hive Gateway runtime: the request goes through its whole pipeline, in process. */
export function executeThrough(gateway: { fetch(request: Request): Response | Promise<Response> }): Execute {
  return async (document, variables, headers, signal) =>
    gateway.fetch(
      new Request('http://router/graphql', {
        method: 'POST',
        headers,
        body: JSON.stringify({ query: document, variables }),
        signal,
      }),
    );
}

export function createRestFacade(options: RestFacadeOptions): RestFacade {
  const schema = loadApiSchema(options.apiSchema);
  const dialects = (options.dialects ?? DIALECTS).map((dialect) =>
    compileDialect(dialect, options.config[dialect.mountSetting], schema),
  );
  const mounts = dialects.map((d) => d.mount);
  const clash = mounts.find((mount, index) => mounts.indexOf(mount) !== index && mount !== '');
  if (clash !== undefined) throw new Error(`two REST dialects are mounted at ${clash}`);

  const engine = createEngine({ ...options, dialects, schema, startedAt: Date.now() });
  const sockets = createSocketServer({
    engine,
    execute: options.execute,
    schema,
    admit: options.admit,
    log: options.log,
  });
  const documents = new Map(
    dialects.map((d) => [d.dialect.name, openApiDocument(d, schema, options.version)]),
  );
  const docs = docsUiPage(dialects, options.version);
  const routeTable = docsPage(dialects, options.version);
  const assets = docsAssets();

  return {
    async handle(req, res, edge) {
      const { path } = splitUrl(req.url);
      if (req.method === 'GET' && (path === '/docs' || path === '/docs/routes')) {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(path === '/docs' ? docs : routeTable);
        return true;
      }
      if (req.method === 'GET' && path.startsWith(DOCS_ASSET_PREFIX))
        if (assets(path.slice(DOCS_ASSET_PREFIX.length), res)) return true;
      const openapi = /^\/openapi\/([\w-]+)\.json$/.exec(path);
      if (req.method === 'GET' && openapi && documents.has(openapi[1])) {
        writeJson(res, 200, documents.get(openapi[1]));
        return true;
      }
      return engine.handle(req, res, edge);
    },
    handleUpgrade: sockets.handleUpgrade,
    async close() {
      engine.close();
      await sockets.close();
    },
  };
}
