/**
 * /docs: Swagger UI (swagger-ui-dist, served from the platform's own node_modules, no CDN) over each
 * dialect's OpenAPI document, with "Try it out" sending requests to this router. The hand-built
 * route table stays at /docs/routes.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ServerResponse } from 'node:http';
import type { CompiledDialect } from './engine';

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};
export const DOCS_ASSET_PREFIX = '/docs/assets/';

/** The few files the page needs, read once when first asked for. */
export function docsAssets(): (name: string, res: ServerResponse) => boolean {
  const root = dirname(require.resolve('swagger-ui-dist/package.json'));
  const cache = new Map<string, Buffer>();
  return (name, res) => {
    const type = ASSETS[name];
    if (!type) return false;
    let body = cache.get(name);
    if (!body) cache.set(name, (body = readFileSync(join(root, name))));
    res.setHeader('content-type', type);
    res.setHeader('cache-control', 'public, max-age=3600');
    res.end(body);
    return true;
  };
}

/** The Swagger UI page, one entry per dialect in its top bar (`?urls.primaryName=<dialect>` picks one). */
export function docsUiPage(dialects: CompiledDialect[], version: string): string {
  const config = {
    urls: dialects.map(({ dialect }) => ({ url: `/openapi/${dialect.name}.json`, name: dialect.name })),
    dom_id: '#docs',
    deepLinking: true,
    layout: 'StandaloneLayout',
    // The validator badge would send each document to validator.swagger.io; nothing leaves the platform.
    validatorUrl: null,
    tryItOutEnabled: false,
    queryConfigEnabled: true,
  };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Agentry REST reference ${version.replace(/[^\w.+-]/g, '')}</title>
<link rel="icon" href="${DOCS_ASSET_PREFIX}favicon-32x32.png">
<link rel="stylesheet" href="${DOCS_ASSET_PREFIX}swagger-ui.css">
<style>body{margin:0}.topbar-wrapper .link{visibility:hidden}</style>
</head><body>
<div id="docs"></div>
<script src="${DOCS_ASSET_PREFIX}swagger-ui-bundle.js"></script>
<script src="${DOCS_ASSET_PREFIX}swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle(Object.assign(${JSON.stringify(config)}, {
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  plugins: [SwaggerUIBundle.plugins.DownloadUrl],
}));
</script>
</body></html>
`;
}
