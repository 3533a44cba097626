/**
 * The platform's Prometheus figures (prom-client), one registry per process. The launcher runs the
 * router and all six subgraphs in one process, so they share it; when subgraphs run as their own
 * processes, the router reads each one's /metrics as JSON and adds them up (router/metrics.ts).
 * Every figure a subgraph keeps carries its `subgraph` label, so its own /metrics shows only those.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  AggregatorRegistry,
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry, prefix: 'agentry_' });

/** Tells the router whether a subgraph's /metrics is its own process (already counted) or another. */
export const METRICS_PROCESS_HEADER = 'x-agentry-metrics-process';
export const METRICS_PROCESS_ID = randomUUID();

const registers = [metricsRegistry];
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const metrics = {
  requests: new Counter({
    name: 'agentry_http_requests_total',
    help: 'Requests the router answered, by surface (rest, graphql, other), route or operation, and status.',
    labelNames: ['surface', 'route', 'status'] as const,
    registers,
  }),
  requestSeconds: new Histogram({
    name: 'agentry_http_request_duration_seconds',
    help: 'Time from a request reaching the router to its answer ending (streams: their whole life).',
    labelNames: ['surface', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  }),
  subgraphSeconds: new Histogram({
    name: 'agentry_subgraph_request_duration_seconds',
    help: 'Time the router waited for a subgraph to answer one fetch of a query plan.',
    labelNames: ['subgraph'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  }),
  errors: new Counter({
    name: 'agentry_errors_total',
    help: 'Errors answered to clients, by surface and code (a REST row answers its operation’s errors too).',
    labelNames: ['surface', 'code'] as const,
    registers,
  }),
  rateLimited: new Counter({
    name: 'agentry_rate_limit_refusals_total',
    help: 'Requests and WebSocket connections refused by the per-caller rate limit.',
    registers,
  }),
  subscriptions: new Gauge({
    name: 'agentry_subscriptions_open',
    help: 'GraphQL subscriptions open at the router (graphql-ws, SSE and the REST streams that use one).',
    registers,
  }),
  subgraphSockets: new Gauge({
    name: 'agentry_subgraph_websockets_open',
    help: 'graphql-ws connections open at a subgraph (a router holds one per subgraph, multiplexed).',
    labelNames: ['subgraph'] as const,
    registers,
  }),
  subgraphSubscriptions: new Gauge({
    name: 'agentry_subgraph_subscriptions_open',
    help: 'Subscriptions running at a subgraph (the router runs one per caller and operation, shared by its subscribers).',
    labelNames: ['subgraph'] as const,
    registers,
  }),
  subgraphSocketsOpened: new Counter({
    name: 'agentry_subgraph_websockets_opened_total',
    help: 'graphql-ws connections a subgraph has accepted since it started.',
    labelNames: ['subgraph'] as const,
    registers,
  }),
  sqlStatements: new Counter({
    name: 'agentry_sql_statements_total',
    help: 'SQL statements this process ran, per subgraph schema.',
    labelNames: ['subgraph'] as const,
    registers,
  }),
  chatStreams: new Gauge({
    name: 'agentry_chat_streams_open',
    help: 'Chat answers being streamed from an upstream model now.',
    labelNames: ['subgraph'] as const,
    registers,
  }),
  tokensStreamed: new Counter({
    name: 'agentry_chat_tokens_streamed_total',
    help: 'Token deltas received from upstream models and streamed to clients.',
    labelNames: ['subgraph'] as const,
    registers,
  }),
  ledgerTransfers: new Counter({
    name: 'agentry_ledger_transfers_total',
    help: 'Ledger transfers committed (replays of a stored transfer not counted), by kind.',
    labelNames: ['subgraph', 'kind'] as const,
    registers,
  }),
  webhookDeliveries: new Counter({
    name: 'agentry_webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts by outcome: delivered, retry (will be tried again), failed (gave up), gone (410).',
    labelNames: ['subgraph', 'outcome'] as const,
    registers,
  }),
};

/** Figures read when scraped (pool use, queue depth), kept by their owner until it closes. */
const gaugeSources = {
  pool: new Map<string, () => { used: number; free: number; pending: number }>(),
  webhookQueue: new Map<string, () => Promise<number>>(),
};

new Gauge({
  name: 'agentry_db_pool_connections',
  help: 'Database connections of each subgraph’s pool: in use, idle, and callers waiting for one.',
  labelNames: ['subgraph', 'state'] as const,
  registers,
  collect() {
    this.reset();
    for (const [subgraph, read] of gaugeSources.pool)
      for (const [state, value] of Object.entries(read())) this.set({ subgraph, state }, value);
  },
});

new Gauge({
  name: 'agentry_webhook_queue_depth',
  help: 'Webhook deliveries waiting to be sent (pending, due or scheduled for a retry).',
  labelNames: ['subgraph'] as const,
  registers,
  async collect() {
    this.reset();
    for (const [subgraph, read] of gaugeSources.webhookQueue) this.set({ subgraph }, await read());
  },
});

/** Registers a figure read on each scrape; answers its removal (for close). */
export function watchGauge<K extends keyof typeof gaugeSources>(
  kind: K,
  subgraph: string,
  read: (typeof gaugeSources)[K] extends Map<string, infer R> ? R : never,
): () => void {
  const sources = gaugeSources[kind] as Map<string, unknown>;
  sources.set(subgraph, read);
  return () => {
    if (sources.get(subgraph) === read) sources.delete(subgraph);
  };
}

/** Client-chosen names (GraphQL operation names) become labels only while they stay few and plain. */
const MAX_OPERATION_LABELS = 500;
const seenOperations = new Set<string>();
export function operationLabel(name: string | null | undefined): string {
  if (!name) return 'anonymous';
  if (!/^\w{1,100}$/.test(name)) return 'other';
  if (seenOperations.has(name)) return name;
  if (seenOperations.size >= MAX_OPERATION_LABELS) return 'other';
  seenOperations.add(name);
  return name;
}

/** What the router learned a request was (a REST row, a GraphQL operation) while serving it. */
const requestLabels = new WeakMap<IncomingMessage, { surface: string; route: string }>();
export function labelRequest(req: IncomingMessage, surface: 'rest' | 'graphql', route: string): void {
  requestLabels.set(req, { surface, route });
}

/** What the request was labelled as (`surface route`), for the trace of it. */
export function requestLabel(req: IncomingMessage): string | undefined {
  const label = requestLabels.get(req);
  return label && `${label.surface} ${label.route}`;
}

/** Records one answered request once it has ended. */
export function observeRequest(req: IncomingMessage, status: number, seconds: number): void {
  const { surface, route } = requestLabels.get(req) ?? { surface: 'other', route: 'other' };
  metrics.requests.inc({ surface, route, status: String(status) });
  metrics.requestSeconds.observe({ surface, route }, seconds);
}

export type MetricJson = MetricObjectWithValues<MetricValue<string>>;

/** This process's figures that belong to one subgraph, as prom-client JSON. */
export async function subgraphMetricsJson(subgraph: string): Promise<MetricJson[]> {
  return (await metricsRegistry.getMetricsAsJSON())
    .map((m) => ({ ...m, values: m.values.filter((v) => v.labels.subgraph === subgraph) }))
    .filter((m) => m.values.length);
}

/** Prometheus text for figures gathered as JSON (from this process and others), added up. */
export function metricsText(sets: MetricJson[][]): Promise<string> {
  return AggregatorRegistry.aggregate(sets).metrics();
}

export const PROMETHEUS_CONTENT_TYPE = metricsRegistry.contentType;
