/**
 * Traces: with an in-memory exporter, one request carrying a W3C traceparent is one trace from the
 * router through the subgraph to its SQL, and a chat turn's upstream call joins the turn's trace
 * (the upstream receives its traceparent).
 */
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { randomBytes } from 'node:crypto';
import { startTracing, type Tracing } from '../lib';
import { ChatDocument, MeDocument } from './generated/graphql';
import { startLlmDouble, useUpstream, type LlmDouble } from './support/llm-double';
import { startTestPlatform, type TestPlatform, type User } from './support/platform';

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let llm: LlmDouble;
let t: TestPlatform;
let ada: User;

beforeAll(async () => {
  tracing = startTracing({ serviceName: 'agentry-test', exporter })!;
  llm = await startLlmDouble();
  useUpstream(llm);
  t = await startTestPlatform();
  ada = await t.register('Ada');
});
afterAll(async () => {
  await t.close();
  await llm.close();
  await tracing.shutdown();
});

/** A caller's own trace context, as a W3C traceparent. */
function callerContext() {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

/** The spans of one trace, once one named `last` has ended (spans end as responses close). */
async function traceOf(traceId: string, last: RegExp): Promise<ReadableSpan[]> {
  const spans = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  for (let i = 0; i < 100 && !spans().some((s) => last.test(s.name)); i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
  return spans();
}

test('one GraphQL request is one trace: router, subgraph fetch, subgraph, SQL', async () => {
  const caller = callerContext();
  await ada.request(MeDocument, {}, { traceparent: caller.traceparent });
  const spans = await traceOf(caller.traceId, /^router /);

  const router = spans.find((s) => s.name === 'router POST graphql Me');
  expect(router).toBeDefined();
  expect(router!.kind).toBe(SpanKind.SERVER);
  expect(parentOf(router!)).toBe(caller.spanId);
  expect(router!.attributes['http.response.status_code']).toBe(200);

  const fetch = spans.find((s) => s.name === 'subgraph accounts' && s.kind === SpanKind.CLIENT);
  expect(fetch && parentOf(fetch)).toBe(router!.spanContext().spanId);
  const served = spans.find((s) => s.name === 'subgraph accounts' && s.kind === SpanKind.SERVER);
  expect(served && parentOf(served)).toBe(fetch!.spanContext().spanId);

  const sql = spans.filter((s) => s.name === 'sql' && parentOf(s) === served!.spanContext().spanId);
  expect(sql.length).toBeGreaterThan(0);
  expect(sql[0].attributes['db.namespace']).toBe('accounts');
  expect(String(sql[0].attributes['db.query.text'])).toMatch(/\bselect\b/i);
});

test('a chat turn’s upstream LLM call is a span of the turn’s trace, and its traceparent goes upstream', async () => {
  const caller = callerContext();
  const sent = llm.requests.length;
  const chat = await ada.request(
    ChatDocument,
    { input: { content: 'Say hello' } },
    { traceparent: caller.traceparent },
  );
  expect(chat.body.errors).toBeUndefined();
  const spans = await traceOf(caller.traceId, /^llm /);
  const call = spans.find((s) => s.name === 'llm default');
  expect(call).toBeDefined();
  expect(call!.kind).toBe(SpanKind.CLIENT);
  expect(call!.attributes['gen_ai.request.model']).toBeDefined();
  const upstream = llm.requests.slice(sent).find((r) => r.traceparent?.includes(caller.traceId));
  expect(upstream?.traceparent).toBe(`00-${caller.traceId}-${call!.spanContext().spanId}-01`);
  expect(spans.some((s) => s.name === 'subgraph sessions' && s.kind === SpanKind.SERVER)).toBe(true);
});
