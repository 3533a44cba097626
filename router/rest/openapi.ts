/**
 * OpenAPI 3.1 per dialect and an HTML reference, generated from the tables. Request schemas come
 * from the operations' variable types; response schemas and examples come from running each
 * row's shape over sample data typed like the operation's selection (once with every nullable
 * field set, once with each null, so nullable JSON fields are documented as such).
 */
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  typeFromAST,
  type FragmentDefinitionNode,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { CompiledDialect, CompiledRoute, CompiledSocket } from './engine';
import type { ErrorStyle, JsonSchema, Row, ShapeContext, Source } from './types';
import type { Operation } from './variables';

const SAMPLE_SCALARS: Record<string, unknown> = {
  ID: 'id_01jd7x5q3k',
  String: 'text',
  Int: 3,
  Float: 0.5,
  Boolean: true,
  BigInt: '1250',
  DateTimeISO: '2025-01-15T00:00:00.000Z',
};

/** Data shaped like the operation's result: every field present, nullable ones null when `nulls`. */
function sampleData(schema: GraphQLSchema, operation: Operation, nulls: boolean): Record<string, unknown> {
  const fragments = new Map(
    operation.document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((f) => [f.name.value, f]),
  );
  const selection = (type: GraphQLObjectType, set: SelectionSetNode): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const node of set.selections) {
      if (node.kind === Kind.FIELD) {
        const key = node.alias?.value ?? node.name.value;
        out[key] =
          node.name.value === '__typename'
            ? type.name
            : value(type.getFields()[node.name.value].type, node.selectionSet, false);
      } else if (node.kind === Kind.FRAGMENT_SPREAD) {
        Object.assign(out, selection(type, fragments.get(node.name.value)!.selectionSet));
      } else {
        Object.assign(out, selection(type, node.selectionSet));
      }
    }
    return out;
  };
  const value = (type: GraphQLOutputType, set: SelectionSetNode | undefined, required: boolean): unknown => {
    if (isNonNullType(type)) return value(type.ofType, set, true);
    if (nulls && !required) return null;
    if (isListType(type)) return [value(type.ofType, set, false)];
    if (isObjectType(type)) return selection(type, set!);
    if (isEnumType(type)) return type.getValues()[0].value;
    return SAMPLE_SCALARS[getNamedType(type).name] ?? 'text';
  };
  return selection(schema.getRootType(operation.definition.operation)!, operation.definition.selectionSet);
}

function schemaOfValue(value: unknown): JsonSchema {
  if (value === null) return { type: 'null' };
  if (Array.isArray(value)) return { type: 'array', items: value.length ? schemaOfValue(value[0]) : {} };
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    return {
      type: 'object',
      properties: Object.fromEntries(entries.map(([key, v]) => [key, schemaOfValue(v)])),
      required: entries.map(([key]) => key),
    };
  }
  if (typeof value === 'number') return { type: Number.isInteger(value) ? 'integer' : 'number' };
  return { type: typeof value };
}

/** The union of two inferred schemas: where one sample had null, the property is nullable. */
function merge(a: JsonSchema, b: JsonSchema): JsonSchema {
  if (a.type === 'object' && b.type === 'object') {
    const pa = a.properties as Record<string, JsonSchema>;
    const pb = b.properties as Record<string, JsonSchema>;
    return {
      ...a,
      properties: Object.fromEntries(Object.keys(pa).map((k) => [k, pb[k] ? merge(pa[k], pb[k]) : pa[k]])),
    };
  }
  if (a.type === 'array' && b.type === 'array')
    return { type: 'array', items: merge(a.items as JsonSchema, b.items as JsonSchema) };
  if (JSON.stringify(a) === JSON.stringify(b)) return a;
  if (b.type === 'null') return { ...a, type: [a.type, 'null'].flat() };
  if (a.type === 'null') return { ...b, type: [b.type, 'null'].flat() };
  return { anyOf: [a, b] };
}

function sampleContext(version: string): ShapeContext {
  return {
    input: { params: {}, query: new URLSearchParams(), body: {}, headers: {} },
    page: { limit: 20, offset: 0 },
    server: { version, uptimeSeconds: 3600, dialects: [] },
  };
}

/** The documented answer of a row: schema and example, or nothing when the shape cannot run on samples. */
function responseOf(schema: GraphQLSchema, route: CompiledRoute | CompiledSocket, version: string) {
  const render = (nulls: boolean) => {
    const data = sampleData(schema, route.operation, nulls);
    if ('row' in route) {
      const { row } = route;
      if (row.stream) {
        const context = sampleContext(version);
        return row.stream.event(data as never, { ...context, state: row.stream.init?.(context) });
      }
      return row.shape ? row.shape(data as never, sampleContext(version)) : data;
    }
    return route.spec.frame(data as never);
  };
  try {
    const full = render(false);
    return { example: full, schema: merge(schemaOfValue(full), schemaOfValue(render(true))) };
  } catch {
    return { example: undefined, schema: {} };
  }
}

function inputSchema(type: GraphQLInputType): JsonSchema {
  if (isNonNullType(type)) return inputSchema(type.ofType);
  if (isListType(type)) return { type: 'array', items: inputSchema(type.ofType) };
  if (isEnumType(type)) return { type: 'string', enum: type.getValues().map((v) => v.value) };
  if (isInputObjectType(type)) return { type: 'object' };
  const scalars: Record<string, JsonSchema> = {
    Int: { type: 'integer' },
    Float: { type: 'number' },
    Boolean: { type: 'boolean' },
    BigInt: { type: 'string', pattern: '^-?\\d+$' },
  };
  return scalars[type.name] ?? { type: 'string' };
}

/** The GraphQL input type at a variable path, and whether leaving it out is allowed. */
function typeAt(schema: GraphQLSchema, operation: Operation, path: string) {
  const [root, ...rest] = path.split('.');
  const definition = operation.definition.variableDefinitions?.find((d) => d.variable.name.value === root);
  let type = typeFromAST(schema, definition!.type as never) as GraphQLInputType;
  let optional = Boolean(definition!.defaultValue);
  let description: string | undefined;
  for (const key of rest) {
    const named = getNamedType(type);
    const field = isInputObjectType(named) ? named.getFields()[key] : undefined;
    if (!field) break; // compileDialect has already refused such a path
    type = field.type;
    optional = field.defaultValue !== undefined;
    description = field.description ?? undefined;
  }
  return { type, required: isNonNullType(type) && !optional, description };
}

const describe = (schema: JsonSchema, description?: string) =>
  description ? { ...schema, description } : schema;

function parametersOf(
  schema: GraphQLSchema,
  route: CompiledRoute | CompiledSocket,
  pattern: string[],
  paged?: boolean,
) {
  const parameters: JsonSchema[] = pattern
    .filter((segment) => segment.startsWith(':'))
    .map((segment) => ({ name: segment.slice(1), in: 'path', required: true, schema: { type: 'string' } }));
  for (const [path, source] of Object.entries(route.sources) as [string, Source | undefined][]) {
    if (!source || (source.in !== 'query' && source.in !== 'header')) continue;
    const at = typeAt(schema, route.operation, path);
    parameters.push({
      name: source.name,
      in: source.in,
      required: at.required && path !== 'first',
      schema: describe(
        source.converter?.schema ?? inputSchema(at.type),
        source.description ?? at.description,
      ),
    });
  }
  if (paged)
    parameters.push({
      name: 'offset',
      in: 'query',
      required: false,
      schema: { type: 'integer', minimum: 0 },
    });
  return parameters;
}

function requestBodyOf(schema: GraphQLSchema, route: CompiledRoute) {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [path, source] of Object.entries(route.sources) as [string, Source | undefined][]) {
    if (!source || source.in !== 'body') continue;
    const at = typeAt(schema, route.operation, path);
    properties[source.name] = describe(
      source.converter?.schema ?? inputSchema(at.type),
      source.description ?? at.description,
    );
    if (at.required) required.push(source.name);
  }
  if (!Object.keys(properties).length) return undefined;
  return {
    required: required.length > 0,
    content: {
      [route.row.multipart ? 'multipart/form-data' : 'application/json']: {
        schema: { type: 'object', properties, required },
      },
    },
  };
}

const openApiPath = (mount: string, path: string) => `${mount}${path}`.replace(/:(\w+)/g, '{$1}') || '/';
const operationId = (method: string, path: string) =>
  `${method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+/g, '_').replace(/_$/, '')}`;

/** What a WebSocket endpoint says and expects, frame by frame. */
function socketDescription({ spec, operation }: CompiledSocket): string {
  const greeting = JSON.stringify(spec.greeting);
  if (!spec.dialogue)
    return `Upgrades to a WebSocket. The first frame is ${greeting}; then one JSON frame per event, like the example. GraphQL operation: ${operation.name}.`;
  const accepted = Object.keys(spec.dialogue.on)
    .map((type) => `{"type":"${type}", …}`)
    .join(', ');
  return `Upgrades to a WebSocket without credentials: the first client frame carries them. The server answers ${greeting}, then accepts ${accepted}, each answered with JSON frames like the example. GraphQL operation: ${operation.name}.`;
}

/** The documented error answer of a format: its JSON schema and an example. */
function errorContent(style: ErrorStyle) {
  const example = style.body({ status: 404, code: 'NOT_FOUND', message: 'task task_… not found' });
  return { 'application/json': { schema: schemaOfValue(example), example } };
}

/** The body of a relayed request or answer: bytes of any media type. */
const ANY_CONTENT = { '*/*': { schema: {} } };

export function openApiDocument(compiled: CompiledDialect, schema: GraphQLSchema, version: string) {
  const { dialect, mount } = compiled;
  /**
   * The dialect's shared error answer, or the row's own where its format differs (002 in hermes).
   * A row that names no style (`undefined`) answers the dialect's, as the engine does.
   */
  const errorResponse = (style = dialect.errors) =>
    style === dialect.errors
      ? { $ref: '#/components/responses/Error' }
      : { description: "An error in this route's own format", content: errorContent(style) };
  const paths: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const route of compiled.routes) {
    const { row } = route;
    const key = openApiPath(mount, row.path);
    const method = row.method.toLowerCase();
    const answer = responseOf(schema, route, version);
    const existing = (paths[key] ??= {})[method];
    if (row.stream) {
      const content = {
        'text/event-stream': {
          schema: {
            type: 'string',
            description: 'Server-Sent Events; the example shows the event(s) one result becomes.',
          },
          example: answer.example,
        },
      };
      if (existing)
        Object.assign((existing.responses as Record<string, { content: object }>)['200'].content, content);
      else {
        const doc: Record<string, unknown> = {
          ...describeRow(row, route.operation, streamSummary(row)),
          parameters: parametersOf(schema, route, route.pattern),
          responses: {
            '200': { description: row.summary, content },
            default: errorResponse(row.errors),
          },
        };
        const body = requestBodyOf(schema, route);
        if (body) doc.requestBody = body;
        paths[key][method] = doc;
      }
      continue;
    }
    const status = String(
      typeof row.status === 'function'
        ? row.status(sampleData(schema, route.operation, false) as never)
        : (row.status ?? 200),
    );
    const success = row.raw
      ? { description: 'The answer relayed as received: any status and content type', content: ANY_CONTENT }
      : status === '204'
        ? { description: 'No content' }
        : {
            description: 'Success',
            content: { 'application/json': { schema: answer.schema, example: answer.example } },
          };
    const doc: Record<string, unknown> = {
      ...describeRow(row, route.operation, row.summary),
      parameters: parametersOf(schema, route, route.pattern, Boolean(row.paged)),
      responses: {
        [status]: success,
        default: errorResponse(row.errors),
      },
    };
    const body = row.rawBody
      ? { description: 'Any content type, relayed as sent', content: ANY_CONTENT }
      : requestBodyOf(schema, route);
    if (body) doc.requestBody = body;
    if (existing) {
      // An SSE row came first: keep its event-stream content next to the JSON one.
      const streamContent = (existing.responses as Record<string, { content: object }>)['200'].content;
      Object.assign(
        (doc.responses as Record<string, { content?: object }>)[status].content ?? {},
        streamContent,
      );
    }
    paths[key][method] = doc;
  }
  for (const socket of compiled.sockets) {
    const answer = responseOf(schema, socket, version);
    paths[openApiPath(mount, socket.spec.path)] = {
      get: {
        operationId: operationId('ws', socket.spec.path),
        summary: `WebSocket: ${socket.spec.summary}`,
        description: socketDescription(socket),
        parameters: parametersOf(schema, socket, socket.pattern),
        responses: {
          '101': {
            description: 'Switching protocols',
            content: { 'application/json': { example: answer.example, schema: answer.schema } },
          },
          default: errorResponse(socket.spec.errors),
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: `Agentry REST: ${dialect.title}`,
      version,
      description: `The ${dialect.name} dialect (reference ${dialect.references.join(', ')}), mounted at ${mount || '/'}. Each route runs a named GraphQL operation through the router.`,
    },
    servers: [{ url: '/' }],
    security: [{}, { bearer: [] }, { apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An access token (JWT) or an API key' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      },
      responses: {
        Error: {
          description: `An error in the ${dialect.name} format`,
          ...(dialect.headers
            ? {
                headers: Object.fromEntries(
                  Object.keys(dialect.headers).map((h) => [h, { schema: { type: 'string' } }]),
                ),
              }
            : {}),
          content: errorContent(dialect.errors),
        },
      },
    },
  };
}

/** A stream row chosen by Accept says so; one with its own `when` says when in its summary. */
const streamSummary = (row: Row) =>
  row.stream?.when ? row.summary : `${row.summary} (Accept: text/event-stream)`;

function describeRow(row: Row, operation: Operation, summary: string) {
  return {
    operationId: operationId(row.method + (row.stream ? '_stream' : ''), row.path),
    summary,
    description: `GraphQL operation: ${operation.name}.`,
    tags: [
      row.path
        .split('/')
        .filter(Boolean)
        .find((s) => s !== 'api') ?? 'root',
    ],
    ...(row.public ? { security: [] } : {}),
  };
}

const escape = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** A readable reference: every dialect, its mount and its routes, with links to the OpenAPI documents. */
export function docsPage(dialects: CompiledDialect[], version: string): string {
  const sections = dialects.map(({ dialect, mount, routes, sockets }) => {
    const rows = [
      ...routes.map(({ row, operation }) => ({
        method: row.method,
        path: `${mount}${row.path}`,
        summary: row.stream ? streamSummary(row) : row.summary,
        operation: operation.name,
        status: row.stream ? 'SSE' : typeof row.status === 'function' ? 'varies' : String(row.status ?? 200),
      })),
      ...sockets.map(({ spec, operation }) => ({
        method: 'WS',
        path: `${mount}${spec.path}`,
        summary: spec.summary,
        operation: operation.name,
        status: '101',
      })),
    ];
    const body = rows
      .map(
        (r) =>
          `<tr><td><code>${r.method}</code></td><td><code>${escape(r.path)}</code></td><td>${escape(r.summary)}</td><td><code>${r.operation}</code></td><td>${r.status}</td></tr>`,
      )
      .join('\n');
    const example = escape(
      JSON.stringify(dialect.errors.body({ status: 404, code: 'NOT_FOUND', message: 'not found' })),
    );
    return `<section>
<h2>${escape(dialect.title)} <small>(${dialect.name})</small></h2>
<p>Mounted at <code>${escape(mount || '/')}</code> · reference ${dialect.references.join(', ')} · errors like <code>${example}</code> ·
<a href="/openapi/${dialect.name}.json">OpenAPI 3.1</a></p>
<table><thead><tr><th>Method</th><th>Path</th><th>What</th><th>GraphQL operation</th><th>Status</th></tr></thead>
<tbody>
${body}
</tbody></table>
</section>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Agentry REST reference</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}code{font-size:13px}small{color:#666}</style>
</head><body>
<h1>Agentry REST reference <small>${escape(version)}</small></h1>
<p>Every route runs a named GraphQL operation through the router, so authentication, rate limits and federation apply as they do on <a href="/graphql">/graphql</a>.
Send credentials as <code>Authorization: Bearer …</code> or <code>x-api-key</code>.</p>
${sections.join('\n')}
</body></html>
`;
}
