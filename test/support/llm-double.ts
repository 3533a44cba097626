import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An OpenAI-compatible upstream on 127.0.0.1 for tests. The requested model picks the behaviour:
 * - `slow`: ten tokens 150 ms apart; `no-usage`: the normal answer without a usage chunk;
 * - `error-500`: a 500 with OpenAI's error body; `stall`: headers, then silence;
 * - `disconnect`: two tokens, then the connection is cut;
 * - a model of {@link HOSTILE}: an upstream that breaks the protocol in that way;
 * - anything else: the tokens of {@link ANSWER} and a usage chunk of {@link USAGE}.
 * - a model of {@link ANALYSES}: that content streamed in two halves (none for `analysis-empty`).
 * - {@link INTERVIEW_MODEL}: the setup interview's scripted answers, chosen by the last user message.
 * A request without `stream: true` for a model of {@link PLANS} gets that content as one JSON answer.
 * - {@link REFUSES_TOOLS}: a 400 for a request that offers tools, else the normal answer;
 * - a model of {@link TOOL_CALLS}: asks for those tool calls, streamed as OpenAI streams them, then
 *   (once the results came back as `tool` messages) answers `Tool said: <results joined by | >`.
 * POST /v1/embeddings, /v1/completions and /v1/responses answer as OpenAI's do (see {@link embeddings},
 * {@link completions}, {@link responses}).
 */
export const ANSWER = ['Hello', ',', ' world', '!'];

/**
 * The answer as a stream delivered it: tokens that reach the platform together may leave in one
 * event, so a stream carries ANSWER's text in one or more deltas. Checks the text, returns the deltas.
 */
export function answerDeltas(deltas: string[]): string[] {
  if (!deltas.length || deltas.length > ANSWER.length || deltas.join('') !== ANSWER.join(''))
    throw new Error(`the stream carried ${JSON.stringify(deltas)}, not the answer ${JSON.stringify(ANSWER)}`);
  return deltas;
}
export const USAGE = { prompt_tokens: 12, completion_tokens: 4, total_tokens: 16 };
export const DOUBLE_MODELS = ['double-1', 'double-2'];

const step = (key: string, dependsOn: string[]) => ({
  key,
  title: `step ${key}`,
  description: key,
  dependsOn,
});

/**
 * Swarm plans by model: `d` waits for `b` and `c`, which wait for `a`; the cyclic one loops a → c → b → a;
 * plan-nul and plan-surrogate are valid plans (`b` waits for `a`) whose text holds NUL / lone surrogates.
 */
export const PLANS: Record<string, string> = {
  'plan-valid': JSON.stringify({
    subtasks: [step('a', []), step('b', ['a']), step('c', ['a']), step('d', ['b', 'c'])],
  }),
  'plan-invalid': 'Sure! Here is your plan: first a, then b.',
  'plan-wrong-shape': JSON.stringify({ steps: [{ name: 'a' }] }),
  'plan-cyclic': JSON.stringify({ subtasks: [step('a', ['c']), step('b', ['a']), step('c', ['b'])] }),
  'plan-nul': JSON.stringify({
    subtasks: [
      { key: 'a\u0000', title: 'step\u0000a', description: 'nul\u0000here', dependsOn: [] },
      { key: 'b', title: 'step b', description: '', dependsOn: ['a\u0000'] },
    ],
  }),
  'plan-surrogate': JSON.stringify({
    subtasks: [
      { key: 'a\ud800', title: 'step\udc00a', description: 'lone\ud800', dependsOn: [] },
      { key: 'b', title: 'step b', description: '', dependsOn: ['a\ud800'] },
    ],
  }),
};

/** A valid observatory analysis, as the upstream is asked to answer one. */
export const ANALYSIS = {
  summary: 'Slow first tokens',
  issues: ['long context'],
  remediation: ['start a new session'],
  risk: 'medium',
};

/** Observatory answers by model: valid JSON (fenced, as models like to), the wrong shape, nothing. */
export const ANALYSES: Record<string, string> = {
  'analysis-valid': '```json\n' + JSON.stringify(ANALYSIS) + '\n```',
  'analysis-wrong-shape': JSON.stringify({ ...ANALYSIS, risk: 'extreme' }),
  'analysis-empty': '',
};

/**
 * The setup interview's model (`interview-double`) answers by the operator's last message: a word of
 * {@link INTERVIEW_REPLIES} picks a proposal, anything else gets the question.
 */
export const INTERVIEW_MODEL = 'interview-double';
export const INTERVIEW_QUESTION = 'How creative should answers be, and how long at most?';
export const INTERVIEW_REPLIES: Record<string, string> = {
  'propose-valid':
    'Here is your configuration:\n```json\n' +
    JSON.stringify({ model: { temperature: 0.3 }, 'model.max_tokens': 2048 }) +
    '\n```',
  'propose-broken': 'Here it is:\n```json\n{"model.temperature": 0.3,\n```',
  'propose-unknown':
    '```json\n' + JSON.stringify({ 'model.colour': 'blue', 'model.temperature': 5 }) + '\n```',
};
const interviewReply = (messages: { role: string; content: string | null }[]) => {
  const last = messages.findLast((m) => m.role === 'user')?.content ?? '';
  return Object.hasOwn(INTERVIEW_REPLIES, last) ? INTERVIEW_REPLIES[last] : INTERVIEW_QUESTION;
};

/**
 * Tool calls by model: each names the offered function whose name ends with `suffix`, with these
 * arguments (a JSON text). `call-forever` asks again after every result, until no tools are offered.
 */
export const TOOL_CALLS: Record<string, { suffix: string; args: string }[]> = {
  'call-echo': [{ suffix: 'stdio-tools__echo', args: '{"text":"ping"}' }],
  'call-http-add': [{ suffix: 'http-tools__add', args: '{"a":2,"b":3}' }],
  'call-two': [
    { suffix: 'stdio-tools__add', args: '{"a":20,"b":22}' },
    { suffix: 'clock__now', args: '{"timezone":"Europe/Paris"}' },
  ],
  'call-hang': [{ suffix: 'stdio-tools__hang', args: '{}' }],
  'call-bad': [{ suffix: 'stdio-tools__echo', args: '{"text":5}' }],
  'call-forever': [{ suffix: 'stdio-tools__echo', args: '{"text":"again"}' }],
  /** Arguments whose JSON escapes a NUL: the tool gets it, the record and the answer cannot keep it. */
  'call-nul': [{ suffix: 'stdio-tools__echo', args: '{"text":"a\\u0000b"}' }],
};

const toolNames = (body: Record<string, unknown>): string[] =>
  Array.isArray(body.tools)
    ? body.tools.map((tool) => String((tool as { function?: { name?: unknown } }).function?.name))
    : [];

/** Streams the model's tool calls as OpenAI does: id and name first, the arguments in two pieces. */
function toolCallStream(calls: { name: string; args: string }[]): string {
  const delta = (toolCalls: unknown[]) =>
    chunk({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { tool_calls: toolCalls } }] });
  const pieces = calls.flatMap(({ name, args }, index) => [
    delta([{ index, id: `call_${index}_double`, type: 'function', function: { name, arguments: '' } }]),
    delta([{ index, function: { arguments: args.slice(0, args.length >> 1) } }]),
    delta([{ index, function: { arguments: args.slice(args.length >> 1) } }]),
  ]);
  return (
    pieces.join('') +
    chunk({
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }],
    }) +
    chunk(usageChunk(USAGE)) +
    'data: [DONE]\n\n'
  );
}

/** A model whose server refuses (400) any request that offers tools, and answers the others. */
export const REFUSES_TOOLS = 'refuses-tools';

/** What a tool-calling model says once its calls' results came back. */
export const toolAnswer = (results: string[]) => `Tool said: ${results.join(' | ')}`;

/** Answers a model of {@link TOOL_CALLS}: its calls while tools are offered, else what the results said. */
function answerWithTools(res: ServerResponse, model: string, body: Record<string, unknown>): void {
  const messages = (body.messages as { role: string; content: string | null }[] | undefined) ?? [];
  const offered = toolNames(body);
  const results = messages.filter((message) => message.role === 'tool').map((m) => String(m.content));
  const answered = messages.at(-1)?.role === 'tool';
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  if (offered.length && (!answered || model === 'call-forever')) {
    const calls = TOOL_CALLS[model].map(({ suffix, args }) => ({
      name: offered.find((name) => name.endsWith(suffix)) ?? `missing${suffix}`,
      args,
    }));
    res.end(toolCallStream(calls));
    return;
  }
  res.end(
    token(results.length ? toolAnswer(results) : 'no tool was called') +
      chunk(finishChunk) +
      chunk(usageChunk(USAGE)) +
      'data: [DONE]\n\n',
  );
}

const halves = (text: string) =>
  text ? [text.slice(0, text.length >> 1), text.slice(text.length >> 1)] : [];

export interface RecordedRequest {
  model: string;
  messages: { role: string; content: string | null; tool_call_id?: string; tool_calls?: unknown[] }[];
  authorization: string | undefined;
  /** The W3C trace context the platform sent, if it traces. */
  traceparent: string | undefined;
  /** The whole request body (sampling parameters and all). */
  body: Record<string, unknown>;
  /** The client closed the connection before the answer ended. */
  aborted: boolean;
}

export interface LlmDouble {
  /** The base URL to set as LLM_BASE_URL (ends in /v1). */
  url: string;
  requests: RecordedRequest[];
  /** Resolves once a request for `model` was aborted by the client. */
  abortOf(model: string, timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

const chunk = (body: unknown) => `data: ${JSON.stringify(body)}\n\n`;
const token = (content: string) =>
  chunk({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const finishChunk = {
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta: {}, finish_reason: 'stop' }],
};
const usageChunk = (usage: unknown) => ({ object: 'chat.completion.chunk', choices: [], usage });

/**
 * Upstreams that misbehave, by model: each writes its whole answer at once after a 200.
 * Tokens are JSON-escaped, so a lone surrogate arrives as `\ud800`, as it would.
 */
export const HOSTILE = {
  'hostile-negative-usage': () =>
    ANSWER.map(token).join('') +
    chunk(finishChunk) +
    chunk(usageChunk({ prompt_tokens: -12, completion_tokens: -4, total_tokens: -16 })) +
    'data: [DONE]\n\n',
  'hostile-huge-usage': () =>
    ANSWER.map(token).join('') +
    chunk(finishChunk) +
    chunk(usageChunk({ prompt_tokens: 2 ** 31 + 7, completion_tokens: 2 ** 53, total_tokens: 2 ** 53 })) +
    'data: [DONE]\n\n',
  'hostile-nul-token': () =>
    [token('Hel'), token('lo\u0000'), token(' world')].join('') + chunk(finishChunk) + 'data: [DONE]\n\n',
  'hostile-lone-surrogate': () =>
    [token('Hel'), token('lo\ud800'), token('\udfff world')].join('') +
    chunk(finishChunk) +
    'data: [DONE]\n\n',
  /** Not JSON before any token: nothing was answered. */
  'hostile-garbage': () => 'data: <html>upstream proxy error</html>\n\ndata: {"choices": [\n\n',
  /** Not JSON after two tokens: what came is kept. */
  'hostile-garbage-midway': () => token('Hello') + token(',') + 'data: }{ not json\n\n',
  /** Every token and a finish reason, then the stream ends without usage nor [DONE]. */
  'hostile-no-done': () => ANSWER.map(token).join('') + chunk(finishChunk),
  /** Two tokens, then a clean end of the stream with neither finish reason nor [DONE]. */
  'hostile-truncated': () => token('Hello') + token(','),
  /** A JSON error body where a stream should be, with a 200. */
  'hostile-error-200': () =>
    JSON.stringify({ error: { message: 'quota exceeded\u0000 for \ud800 you', type: 'insufficient_quota' } }),
  /** An error event inside the stream, its message carrying a NUL. */
  'hostile-error-event': () => chunk({ error: { message: 'overloaded\u0000 now' } }),
  /** Content that is not a string, and usage that is not numbers. */
  'hostile-wrong-types': () =>
    chunk({ choices: [{ index: 0, delta: { content: 42 } }] }) +
    chunk({ choices: [{ index: 0, delta: { content: { text: 'x' } } }] }) +
    ANSWER.map(token).join('') +
    chunk(finishChunk) +
    chunk(usageChunk({ prompt_tokens: '12', completion_tokens: null })) +
    'data: [DONE]\n\n',
} satisfies Record<string, () => string>;

const isHostile = (model: string): model is keyof typeof HOSTILE => Object.hasOwn(HOSTILE, model);

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return JSON.parse(Buffer.concat(parts).toString() || '{}');
}

async function answer(res: ServerResponse, model: string, record: RecordedRequest): Promise<void> {
  if (model === 'error-500') {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({ error: { message: 'the model is overloaded', type: 'server_error', code: null } }),
    );
    return;
  }
  if (model === REFUSES_TOOLS && record.body.tools !== undefined) {
    // As servers without function calling answer a request that offers tools.
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: 'tools are not supported', type: 'invalid_request_error' } }));
    return;
  }
  if (Object.hasOwn(TOOL_CALLS, model)) {
    answerWithTools(res, model, record.body);
    return;
  }
  if (isHostile(model)) {
    const body = HOSTILE[model]();
    const json = model === 'hostile-error-200';
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'text/event-stream' });
    res.end(body);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  if (model === 'stall') return; // Keeps the connection open until the client gives up.
  const tokens =
    model === 'slow'
      ? Array.from({ length: 10 }, (_, i) => `w${i} `)
      : Object.hasOwn(ANALYSES, model)
        ? halves(ANALYSES[model])
        : model === INTERVIEW_MODEL
          ? halves(interviewReply(record.messages))
          : ANSWER;
  for (const [index, content] of tokens.entries()) {
    if (record.aborted) return;
    if (model === 'disconnect' && index === 2) {
      await sleep(50); // lets the tokens already written reach the client before the cut
      res.socket?.destroy();
      return;
    }
    res.write(token(content));
    if (model === 'slow') await sleep(150);
  }
  res.write(chunk(finishChunk));
  if (model !== 'no-usage') res.write(chunk(usageChunk(USAGE)));
  res.end('data: [DONE]\n\n');
}

/** A model the double's embeddings endpoint refuses, as OpenAI refuses an unknown model (404). */
export const UNKNOWN_EMBEDDER = 'no-such-embedder';

/**
 * OpenAI's embeddings answer: one vector per input (a string or a list of them), made from the text
 * so that different texts differ, and usage counting one token per word.
 */
function embeddings(body: Record<string, unknown>): [number, unknown] {
  if (body.model === UNKNOWN_EMBEDDER)
    return [
      404,
      {
        error: {
          message: `The model '${UNKNOWN_EMBEDDER}' does not exist`,
          type: 'invalid_request_error',
          code: 'model_not_found',
        },
      },
    ];
  const inputs = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? '')];
  const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
  const tokens = inputs.reduce((sum, text) => sum + words(text), 0);
  return [
    200,
    {
      object: 'list',
      model: body.model,
      data: inputs.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: [text.length / 100, words(text) / 10, (text.codePointAt(0) ?? 0) / 1000],
      })),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
  ];
}

/** A legacy completion chunk (`text_completion`) carrying `text`. */
const completionChunk = (model: string, text: string, finish: string | null = null) =>
  chunk({
    id: 'cmpl-double',
    object: 'text_completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, text, logprobs: null, finish_reason: finish }],
  });

/**
 * OpenAI's legacy completions: the tokens of {@link ANSWER} (ten slow ones for `slow`, none for `stall`), whole or
 * streamed, the stream ending with a usage chunk of {@link USAGE} when `stream_options.include_usage`
 * asks for it, then `[DONE]`.
 */
async function completions(res: ServerResponse, body: Record<string, unknown>, record: RecordedRequest) {
  const model = String(body.model);
  const tokens = model === 'slow' ? Array.from({ length: 10 }, (_, i) => `w${i} `) : ANSWER;
  if (body.stream !== true) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'cmpl-double',
        object: 'text_completion',
        model,
        choices: [{ index: 0, text: tokens.join(''), finish_reason: 'stop' }],
        usage: USAGE,
      }),
    );
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.flushHeaders();
  if (model === 'stall') return; // Keeps the connection open until the client gives up.
  for (const text of tokens) {
    if (record.aborted) return;
    res.write(completionChunk(model, text));
    if (model === 'slow') await sleep(150);
  }
  res.write(completionChunk(model, '', 'stop'));
  if ((body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true)
    res.write(chunk({ id: 'cmpl-double', object: 'text_completion', model, choices: [], usage: USAGE }));
  res.end('data: [DONE]\n\n');
}

/** A Responses API event: named by its type, as OpenAI names them (`event:` line and `type`). */
const responseEvent = (type: string, fields: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...fields })}\n\n`;

/** The Responses API's final usage, in its own names, for the tokens of {@link USAGE}. */
export const RESPONSE_USAGE = {
  input_tokens: USAGE.prompt_tokens,
  output_tokens: USAGE.completion_tokens,
  total_tokens: USAGE.total_tokens,
};

/**
 * OpenAI's Responses API, streamed: `response.created`, a `response.output_text.delta` per token of
 * {@link ANSWER}, then `response.completed` with {@link RESPONSE_USAGE}; no `[DONE]`, as OpenAI ends it.
 */
function responses(res: ServerResponse, body: Record<string, unknown>) {
  const response = { id: 'resp_double', object: 'response', model: body.model };
  if (body.stream !== true) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...response, status: 'completed', usage: RESPONSE_USAGE }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.end(
    responseEvent('response.created', { response: { ...response, status: 'in_progress' } }) +
      ANSWER.map((delta) => responseEvent('response.output_text.delta', { delta })).join('') +
      responseEvent('response.completed', {
        response: { ...response, status: 'completed', usage: RESPONSE_USAGE },
      }),
  );
}

/** A request as the double records it; `aborted` turns true when the client leaves before the end. */
function recordOf(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>): RecordedRequest {
  const record: RecordedRequest = {
    model: String(body.model),
    messages: (body.messages as RecordedRequest['messages'] | undefined) ?? [],
    authorization: req.headers.authorization,
    traceparent: req.headers.traceparent as string | undefined,
    body,
    aborted: false,
  };
  res.on('close', () => {
    if (!res.writableFinished) record.aborted = true;
  });
  return record;
}

export async function startLlmDouble(): Promise<LlmDouble> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://double').pathname;
    if (req.method === 'GET' && path === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: DOUBLE_MODELS.map((id) => ({ id, object: 'model' })) }));
      return;
    }
    if (req.method === 'POST' && path === '/v1/embeddings') {
      void readJson(req).then((body) => {
        requests.push(recordOf(req, res, body));
        const [status, answer] = embeddings(body);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
      return;
    }
    if (req.method === 'POST' && path === '/v1/completions') {
      void readJson(req).then(async (body) => {
        const record = recordOf(req, res, body);
        requests.push(record);
        await completions(res, body, record);
      });
      return;
    }
    if (req.method === 'POST' && path === '/v1/responses') {
      void readJson(req).then((body) => {
        requests.push(recordOf(req, res, body));
        responses(res, body);
      });
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      res.writeHead(404).end();
      return;
    }
    void readJson(req).then(async (body) => {
      const record = recordOf(req, res, body);
      requests.push(record);
      if (body.stream !== true && Object.hasOwn(PLANS, record.model)) {
        res.writeHead(200, { 'content-type': 'application/json' });
        const message = { role: 'assistant', content: PLANS[record.model] };
        res.end(
          JSON.stringify({ object: 'chat.completion', choices: [{ index: 0, message }], usage: USAGE }),
        );
        return;
      }
      await answer(res, record.model, record);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    async abortOf(model, timeoutMs = 2000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const aborted = requests.find((request) => request.model === model && request.aborted);
        if (aborted) return aborted;
        if (Date.now() > deadline) throw new Error(`no aborted ${model} request within ${timeoutMs} ms`);
        await sleep(20);
      }
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The API key {@link useUpstream} configures; it must never show in an answer. */
export const CONFIGURED_KEY = 'sk-test-never-shown';

/**
 * Points the sessions subgraph at `double`. The subgraph reads LLM_* from process.env at first
 * use (a subgraph definition takes no configuration), so call this before the platform starts.
 */
export function useUpstream(double: LlmDouble, settings: Record<string, string> = {}): void {
  Object.assign(process.env, {
    LLM_BASE_URL: double.url,
    LLM_API_KEY: CONFIGURED_KEY,
    LLM_TIMEOUT_MS: '2000',
    ...settings,
  });
}
