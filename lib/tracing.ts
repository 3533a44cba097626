/**
 * OpenTelemetry traces: a span per router request, per subgraph fetch, per subgraph request, per
 * SQL statement and per upstream LLM call, joined by W3C `traceparent` across HTTP. Off (the API's
 * no-op tracer) until startTracing runs: the launcher calls it when OTEL_EXPORTER_OTLP_ENDPOINT
 * is set; tests call it with an in-memory exporter.
 */
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

export interface TracingOptions {
  serviceName: string;
  /** OTLP/HTTP collector base URL (traces go to <endpoint>/v1/traces). */
  endpoint?: string;
  /** Spans go here instead, each as it ends (tests). */
  exporter?: SpanExporter;
}

export interface Tracing {
  shutdown(): Promise<void>;
}

/** Registers the process-wide tracer provider, AsyncLocalStorage context and W3C propagator. */
export function startTracing(options: TracingOptions): Tracing | undefined {
  const processor = options.exporter
    ? new SimpleSpanProcessor(options.exporter)
    : options.endpoint
      ? new BatchSpanProcessor(
          new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/$/, '')}/v1/traces` }),
        )
      : undefined;
  if (!processor) return undefined;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [processor],
  });
  provider.register();
  return {
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

const tracer = () => trace.getTracer('agentry');

/** The caller's trace context from its `traceparent` (and `tracestate`) headers, if any. */
const remoteParent = (headers: IncomingHttpHeaders): Context =>
  propagation.extract(context.active(), headers);

/**
 * Runs `work` inside a SERVER span continuing the caller's trace; the span ends with the
 * response, named by `nameOf` then (the route is known only once the request was served).
 */
export function inServerSpan<T>(
  req: IncomingMessage,
  res: ServerResponse,
  nameOf: () => string,
  work: () => Promise<T>,
  attributes: Attributes = {},
): Promise<T> {
  const parent = remoteParent(req.headers);
  const span = tracer().startSpan(
    nameOf(),
    {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': req.method ?? 'GET', 'url.path': urlPath(req), ...attributes },
    },
    parent,
  );
  res.once('close', () => {
    span.updateName(nameOf());
    span.setAttribute('http.response.status_code', res.statusCode);
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  });
  return context.with(trace.setSpan(parent, span), work);
}

const urlPath = (req: IncomingMessage) => (req.url ?? '/').split('?')[0];

/** A CLIENT span for a call to another service, made the active one while `work` runs. */
export function startClientSpan(name: string, attributes: Attributes = {}): { span: Span; context: Context } {
  const span = tracer().startSpan(name, { kind: SpanKind.CLIENT, attributes });
  return { span, context: trace.setSpan(context.active(), span) };
}

/** Ends a span, marking it failed when `error` is given. */
export function endSpan(span: Span, error?: unknown): void {
  if (error) {
    span.recordException(error as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
  }
  span.end();
}

/** Adds `traceparent` (when a trace is active in `ctx`) to outgoing headers. */
export function traceHeaders(ctx: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(ctx, headers);
  return headers;
}

export const runInContext = <T>(ctx: Context, work: () => T): T => context.with(ctx, work);

/** A finished SQL statement as a span of the request that ran it (MikroORM reports it once done). */
export function recordQuerySpan(schema: string, sql: string, tookMs: number | undefined): void {
  if (!trace.getActiveSpan()) return;
  const end = Date.now();
  tracer()
    .startSpan('sql', {
      kind: SpanKind.CLIENT,
      startTime: end - (tookMs ?? 0),
      attributes: {
        'db.system.name': 'postgresql',
        'db.namespace': schema,
        'db.query.text': sql.length > 2000 ? `${sql.slice(0, 2000)}…` : sql,
      },
    })
    .end(end);
}

/** The active trace's id, for log lines. */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  return span?.isRecording() ? span.spanContext().traceId : undefined;
}
