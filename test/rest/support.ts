import WebSocket from 'ws';
import type { TestPlatform } from '../support/platform';

export interface RestResponse {
  status: number;
  headers: Headers;
  // Shapes are what the tests check, so the body stays loosely typed here.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

export interface CallOptions {
  /** Sent as JSON unless `raw` is given. */
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

/** Calls REST routes over HTTP as one caller (a Bearer credential, or anonymous). */
export function rest(t: TestPlatform, credential?: string) {
  return async (method: string, path: string, options: CallOptions = {}): Promise<RestResponse> => {
    const headers: Record<string, string> = {
      ...(credential ? { authorization: `Bearer ${credential}` } : {}),
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    };
    const response = await fetch(`${t.url}${path}`, {
      method,
      headers,
      body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: the test sees the text
    }
    return { status: response.status, headers: response.headers, body, text };
  };
}

export type Rest = ReturnType<typeof rest>;

export const ISO = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

export interface StreamEvent {
  event: string;
  data: string;
  id?: string;
  comment?: string;
}

/** A Server-Sent Events client over fetch: events and comments one by one, in order. */
export async function openEventStream(url: string, headers: Record<string, string>) {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const queue: StreamEvent[] = [];
  let buffer = '';
  let ended = false;
  const pump = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event: StreamEvent = { event: 'message', data: '' };
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) event.comment = line.slice(1).trim();
            else if (line.startsWith('event: ')) event.event = line.slice(7);
            else if (line.startsWith('id: ')) event.id = line.slice(4);
            else if (line.startsWith('data: ')) event.data += line.slice(6);
          }
          queue.push(event);
        }
      }
    } catch {
      // aborted by close()
    } finally {
      ended = true;
    }
  })();
  return {
    status: response.status,
    headers: response.headers,
    /** The next event (or comment, with `comments`), waiting up to `timeoutMs`. */
    async next(timeoutMs = 5000, comments = false): Promise<StreamEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const index = queue.findIndex((e) => comments || e.comment === undefined || e.data);
        if (index >= 0) return queue.splice(index, 1)[0];
        if (ended) throw new Error('stream ended');
        if (Date.now() > deadline) throw new Error(`no event within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async close() {
      abort.abort();
      await pump;
    },
  };
}

/** A WebSocket client that queues JSON frames and reports how the socket closed. */
export function openSocket(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  const frames: unknown[] = [];
  let closed: { code: number; reason: string } | undefined;
  ws.on('message', (data) => frames.push(JSON.parse(data.toString())));
  ws.on('close', (code, reason) => (closed = { code, reason: reason.toString() }));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    opened,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    async next(timeoutMs = 5000): Promise<any> {
      const deadline = Date.now() + timeoutMs;
      while (!frames.length) {
        if (closed) throw new Error(`socket closed ${closed.code} ${closed.reason}`);
        if (Date.now() > deadline) throw new Error(`no frame within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return frames.shift();
    },
    closed: () => closed,
    /** Closes and waits for the close handshake, so no timer outlives the test. */
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      const done = new Promise((resolve) => ws.once('close', resolve));
      ws.close();
      await done;
    },
  };
}

/** Refusals of an upgrade come back as an HTTP response; this reads its status and JSON body. */
export function refusedUpgrade(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: unknown }>(
    (resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      ws.on('open', () => reject(new Error('the upgrade was accepted')));
      ws.on('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }),
        );
      });
      ws.on('error', () => undefined);
    },
  );
}

/** Polls until `check` passes or the time is up; returns the last value it saw. */
export async function eventually<T>(
  read: () => T,
  check: (value: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
