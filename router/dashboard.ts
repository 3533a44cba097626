import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { projectRoot } from '../lib';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

/** Same-origin only: the page, its GraphQL calls and its WebSocket all go to this router. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Built files carry a content hash in their names (scripts/dashboard.ts): cached for good. */
const HASHED = /^[\w.]+-[A-Z0-9]{8}\.(js|css|js\.map|css\.map)$/;

/**
 * Serves the dashboard built into dist/dashboard at /dashboard. Answers true when the path was
 * the dashboard's (including its 404s and 405s), false to let the router go on.
 */
export function createDashboard(dir = join(projectRoot(), 'dist', 'dashboard')) {
  return async function serveDashboard(req: IncomingMessage, res: ServerResponse, path: string) {
    if (path !== '/dashboard' && !path.startsWith('/dashboard/')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      res.end('Method Not Allowed\n');
      return true;
    }
    if (path === '/dashboard') {
      res.writeHead(308, { location: '/dashboard/' }).end();
      return true;
    }
    const name = path.slice('/dashboard/'.length) || 'index.html';
    // One flat folder: a name with a slash, a dot-dot or anything unusual is not one of its files.
    const file = /^[\w-]+(\.[\w]+)+$/.test(name) ? join(dir, name) : undefined;
    const info = file ? await stat(file).catch(() => undefined) : undefined;
    if (!file || !info?.isFile()) {
      const missing = name === 'index.html' ? ' (run `npm run build` to build the dashboard)' : '';
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`Not Found${missing}\n`);
      return true;
    }
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(name)] ?? 'application/octet-stream',
      'content-length': String(info.size),
      'cache-control': HASHED.test(name) ? 'public, max-age=31536000, immutable' : 'no-cache',
      'last-modified': info.mtime.toUTCString(),
      ...SECURITY_HEADERS,
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
    return true;
  };
}
