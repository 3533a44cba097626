import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_BODY_BYTES } from '../../lib';
import { RestError } from './errors';
import type { RawAnswer, SseEvent, UploadedFile } from './types';

/** A request target's path and query, read as sent (no host is ever taken from it). */
export function splitUrl(target = '/'): { path: string; query: URLSearchParams } {
  const mark = target.indexOf('?');
  return mark < 0
    ? { path: target, query: new URLSearchParams() }
    : { path: target.slice(0, mark), query: new URLSearchParams(target.slice(mark + 1)) };
}

/** Past the limit a body is read and dropped, so the client still receives its 413; past this, the connection goes. */
const DRAIN_FACTOR = 16;

/** The request body as bytes, at most {@link MAX_BODY_BYTES}. */
export async function readRawBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
    else if (size > limit * DRAIN_FACTOR) break;
  }
  if (size > limit) throw new RestError('PAYLOAD_TOO_LARGE', `request body is larger than ${limit} bytes`);
  return Buffer.concat(chunks);
}

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/** A JSON object body; an empty body is `{}`. Wrong type → 415/400, not JSON → 400, not an object → 400/422. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readRawBody(req);
  if (raw.length === 0) return {};
  if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) {
    throw new RestError(
      'UNSUPPORTED_MEDIA_TYPE',
      'the request body must be sent as Content-Type: application/json',
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RestError('BAD_REQUEST', 'request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RestError('BAD_USER_INPUT', 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export function writeJson(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  if (status === 204) {
    res.end();
    return;
  }
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
}

const MULTIPART_TYPE = /^multipart\/form-data\s*;/i;

/**
 * A multipart/form-data body, parsed by the platform's fetch implementation: text fields as
 * strings (the last of a repeated name), files as a list per field name. Wrong type → 415/400.
 */
export async function readMultipart(req: IncomingMessage): Promise<Record<string, unknown>> {
  const contentType = req.headers['content-type'] ?? '';
  if (!MULTIPART_TYPE.test(contentType))
    throw new RestError('UNSUPPORTED_MEDIA_TYPE', 'the request body must be sent as multipart/form-data');
  const raw = await readRawBody(req);
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(raw), { headers: { 'content-type': contentType } }).formData();
  } catch {
    throw new RestError('BAD_REQUEST', 'request body is not valid multipart/form-data');
  }
  const body: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [name, value] of form) {
    if (typeof value === 'string') body[name] = value;
    else {
      const files = Array.isArray(body[name]) ? (body[name] as UploadedFile[]) : [];
      files.push({
        filename: value.name,
        content_type: value.type || 'application/octet-stream',
        data_base64: Buffer.from(await value.arrayBuffer()).toString('base64'),
      });
      body[name] = files;
    }
  }
  return body;
}

/** A relayed answer: its status, its headers and its bytes as they are. */
export function writeRaw(res: ServerResponse, { status, headers, body }: RawAnswer): void {
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('content-length', body.length);
  res.end(body);
}

export function startEventStream(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no', // proxies must not hold events back
  });
  res.flushHeaders();
}

/** One event; a text with line breaks becomes several `data:` lines, which the client joins again. */
export function writeEvent(res: ServerResponse, { event, data, id, raw }: SseEvent): void {
  const text = raw ? String(data) : JSON.stringify(data ?? null);
  const lines = [
    ...(id === undefined ? [] : [`id: ${id}`]),
    ...(event === undefined ? [] : [`event: ${event}`]),
    ...text.split('\n').map((line) => `data: ${line}`),
  ];
  res.write(`${lines.join('\n')}\n\n`);
}

export interface UpstreamMessage {
  event: string;
  data: string;
}

/** The messages of a text/event-stream body; comments (heartbeats) are skipped. Cancels the body when left. */
export async function* readEventStream(
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): AsyncGenerator<UpstreamMessage> {
  const reader = body.getReader();
  // Aborting (client gone, router closing) cancels the body, which ends the upstream subscription.
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', cancel, { once: true });
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          if (colon === 0) continue;
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = text;
          else if (field === 'data') data.push(text);
        }
        if (data.length || event !== 'message') yield { event, data: data.join('\n') };
      }
    }
  } finally {
    signal.removeEventListener('abort', cancel);
    await reader.cancel().catch(() => undefined);
  }
}
