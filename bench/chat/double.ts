/**
 * The chat benchmark's upstream, on a worker thread of its own: an OpenAI-compatible server that
 * holds the measured answers until released, then paces their tokens, each stamped
 * `<index>@<hrtime ns at write> `.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isMainThread } from 'node:worker_threads';
import { BENCH_MODEL, hrNow, memory, percentile, serve, sleep, WARM_MODEL, type DoubleStats } from './common';

function runDouble(): void {
  const created = Math.floor(Date.now() / 1000);
  let nextId = 0;
  const chunk = (id: string, model: string, body: object) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, ...body })}\n\n`;
  const choice = (id: string, model: string, delta: object, finish: string | null) =>
    chunk(id, model, { choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  const finish = (res: ServerResponse, id: string, model: string, tokens: number) => {
    res.write(choice(id, model, {}, 'stop'));
    res.write(
      chunk(id, model, {
        choices: [],
        usage: { prompt_tokens: 8, completion_tokens: tokens, total_tokens: 8 + tokens },
      }),
    );
    res.end('data: [DONE]\n\n');
  };

  interface Held {
    res: ServerResponse;
    id: string;
  }
  let round:
    | { expected: number; tokens: number; intervalMs: number; held: Held[]; paced?: Promise<void>[] }
    | undefined;
  let lateness: number[] = [];
  let tokensWritten = 0;
  let unexpected = 0;
  let closedEarly = 0;

  async function pace(held: Held, startAt: number, tokens: number, intervalMs: number) {
    for (let index = 0; index < tokens; index++) {
      const due = startAt + index * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (held.res.destroyed) {
        closedEarly++;
        return;
      }
      lateness.push(performance.now() - due);
      held.res.write(choice(held.id, BENCH_MODEL, { content: `${index}@${hrNow()} ` }, null));
      tokensWritten++;
    }
    finish(held.res, held.id, BENCH_MODEL, tokens);
  }

  async function answer(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '/', 'http://double').pathname;
    if (req.method === 'GET' && path === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      const data = [BENCH_MODEL, WARM_MODEL].map((id) => ({ id, object: 'model', owned_by: 'bench' }));
      res.end(JSON.stringify({ object: 'list', data }));
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `unknown path ${path}`, type: 'invalid_request_error' } }));
      return;
    }
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    const body = JSON.parse(Buffer.concat(parts).toString() || '{}') as { model?: string; stream?: boolean };
    if (body.stream !== true) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { message: 'this double only streams', type: 'invalid_request_error' } }),
      );
      return;
    }
    const model = String(body.model);
    const id = `chatcmpl-${++nextId}`;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.write(choice(id, model, { role: 'assistant', content: '' }, null));
    if (model === BENCH_MODEL && round && !round.paced) {
      round.held.push({ res, id });
      return;
    }
    if (model === BENCH_MODEL) unexpected++;
    res.write(choice(id, model, { content: 'ready' }, null));
    finish(res, id, model, 1);
  }

  const server = createServer((req, res) => {
    answer(req, res).catch(() => res.destroy());
  });
  const listening = new Promise<string>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`),
    ),
  );

  serve({
    url: () => listening,
    /** Holds the next `expected` answers of the bench model until release. */
    arm: ({ expected, tokens, intervalMs }: { expected: number; tokens: number; intervalMs: number }) => {
      round = { expected, tokens, intervalMs, held: [] };
      lateness = [];
      tokensWritten = 0;
      unexpected = 0;
      closedEarly = 0;
    },
    /** Waits for the expected requests (or the timeout), then starts every held answer. */
    release: async ({ timeoutMs }: { timeoutMs: number }) => {
      const current = round!;
      const deadline = performance.now() + timeoutMs;
      while (current.held.length < current.expected && performance.now() < deadline) await sleep(5);
      const startAt = performance.now() + 5;
      const spread = current.intervalMs / Math.max(1, current.held.length);
      current.paced = current.held.map((held, i) =>
        pace(held, startAt + i * spread, current.tokens, current.intervalMs),
      );
      return { arrived: current.held.length };
    },
    finished: async ({ timeoutMs }: { timeoutMs: number }): Promise<DoubleStats> => {
      const current = round!;
      await Promise.race([Promise.all(current.paced ?? []), sleep(timeoutMs)]);
      const sorted = Float64Array.from(lateness).sort();
      round = undefined;
      return {
        streams: current.held.length,
        tokensWritten,
        lateness: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN },
        unexpectedRequests: unexpected,
        closedEarly,
      };
    },
    memory: () => memory(),
  });
}

if (!isMainThread) runDouble();
