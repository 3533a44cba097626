import { setTimeout as delay } from 'node:timers/promises';
import { endSpan, safeText, serverSentEvents, startClientSpan, traceHeaders } from '../../lib';
import { CircuitBreaker } from './chat.breaker';
import { tokenCount } from './chat.pricing';

/** A function call the model asked for, its arguments a JSON text as OpenAI sends them. */
export interface UpstreamToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** A tool offered to the model, in OpenAI's `tools` format. */
export interface UpstreamTool {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

/** A message in OpenAI's chat format, tool calls and their results included. */
export type UpstreamMessage =
  | { role: 'system' | 'user' | 'assistant'; content: string }
  | {
      role: 'assistant';
      content: string | null;
      tool_calls: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
    }
  | { role: 'tool'; tool_call_id: string; content: string };

export type UpstreamChunk =
  | { kind: 'token'; delta: string }
  | { kind: 'usage'; promptTokens: number; completionTokens: number }
  /** The answer asks for these calls (sent once, when the answer's stream ended). */
  | { kind: 'toolCalls'; calls: UpstreamToolCall[] };

/** The most calls one answer may ask for; more are dropped. */
const MAX_TOOL_CALLS = 16;
/** The longest arguments text of one call. */
const MAX_TOOL_ARGUMENTS_CHARS = 65_536;

export type UpstreamErrorCode =
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_ERROR'
  | 'UPSTREAM_REJECTED'
  | 'UPSTREAM_TIMEOUT'
  | 'UPSTREAM_INTERRUPTED'
  | 'CANCELLED';

export { safeText };

/** Longest upstream error message kept; some servers answer whole HTML pages. */
const MAX_ERROR_CHARS = 1000;

/** Why a stream ended early; `failure` marks the provider unhealthy, `retryable` allows another try. */
export class UpstreamError extends Error {
  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
    readonly options: { retryable: boolean; failure: boolean },
  ) {
    // Cut first, then made safe: a cut can split a surrogate pair.
    super(safeText(message.slice(0, MAX_ERROR_CHARS)));
  }
}

/** Tries per answer; a retry happens only before the first token reached anyone. */
const MAX_ATTEMPTS = 2;
const RETRY_DELAY_MS = 200;
const PROBE_TIMEOUT_MS = 5000;

export interface ProviderOptions {
  name: string;
  baseUrl: string;
  /** Sent as a Bearer token; never logged nor returned. */
  apiKey?: string;
  /** Longest silence allowed while waiting for the response or between two chunks. */
  timeoutMs: number;
  breaker: CircuitBreaker;
}

/** What GET /models revealed about the upstream. */
export interface ProbeResult {
  reachable: boolean;
  /** The model ids when the upstream lists them the OpenAI way, else null. */
  models: string[] | null;
}

/** Sampling parameters passed through to the upstream; unset ones are left to it. */
export interface SamplingParameters {
  temperature?: number;
  maxTokens?: number;
}

/** One OpenAI-compatible server: streaming chat completions behind a circuit breaker. */
export class LlmProvider {
  readonly name: string;
  readonly breaker: CircuitBreaker;
  /** A key set through the API, which replaces the configured one. */
  private keyOverride: string | undefined;

  constructor(private readonly options: ProviderOptions) {
    this.name = options.name;
    this.breaker = options.breaker;
  }

  useKey(apiKey: string | undefined): void {
    this.keyOverride = apiKey;
  }

  /** Longest silence allowed while waiting for an answer or between two of its chunks. */
  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  /** Whether calls carry a key (the one set through the API, else the configured one). */
  get hasKey(): boolean {
    return Boolean(this.keyOverride ?? this.options.apiKey);
  }

  /** Where the key in use comes from. */
  get keySource(): 'api' | 'config' | null {
    return this.keyOverride ? 'api' : this.options.apiKey ? 'config' : null;
  }

  /** The base URL without credentials, safe to show. */
  get baseUrl(): string {
    const url = new URL(this.options.baseUrl);
    url.username = url.password = '';
    return url.toString().replace(/\/$/, '');
  }

  private endpoint(path: string): string {
    return this.options.baseUrl.replace(/\/$/, '') + path;
  }

  private headers(): Record<string, string> {
    const apiKey = this.keyOverride ?? this.options.apiKey;
    return { 'content-type': 'application/json', ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}) };
  }

  /**
   * Streams one answer; throws {@link UpstreamError}. Aborting `signal` ends the upstream request.
   * With `tools`, the model may answer with calls of them instead of (or besides) text.
   */
  async *stream(
    model: string,
    messages: UpstreamMessage[],
    signal: AbortSignal,
    parameters: SamplingParameters = {},
    tools?: UpstreamTool[],
  ): AsyncGenerator<UpstreamChunk> {
    for (let attempt = 1; ; attempt++) {
      if (!this.breaker.tryAcquire())
        throw new UpstreamError(
          'UPSTREAM_UNAVAILABLE',
          `provider ${this.name} is unavailable (circuit open)`,
          {
            retryable: false,
            failure: false,
          },
        );
      let tokens = 0;
      try {
        for await (const chunk of this.attempt(model, messages, signal, parameters, tools)) {
          if (chunk.kind === 'token') tokens++;
          yield chunk;
        }
        this.breaker.succeeded();
        return;
      } catch (caught) {
        const error = asUpstreamError(caught, tokens > 0);
        if (error.options.failure) this.breaker.failed(error.message);
        else if (error.code === 'CANCELLED') this.breaker.released();
        else this.breaker.succeeded();
        if (tokens > 0 || !error.options.retryable || attempt >= MAX_ATTEMPTS || signal.aborted) throw error;
        await delay(RETRY_DELAY_MS * attempt, undefined, { signal }).catch(() => undefined);
      } finally {
        // A consumer that stops iterating (return) is a cancel, not a verdict on the provider.
        if (signal.aborted) this.breaker.released();
      }
    }
  }

  private async *attempt(
    model: string,
    messages: UpstreamMessage[],
    signal: AbortSignal,
    { temperature, maxTokens }: SamplingParameters,
    tools: UpstreamTool[] | undefined,
  ): AsyncGenerator<UpstreamChunk> {
    const controller = new AbortController();
    const cancel = () => controller.abort();
    signal.addEventListener('abort', cancel, { once: true });
    let timedOut = false;
    let idle: NodeJS.Timeout | undefined;
    const restartIdleTimer = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, this.options.timeoutMs);
    };
    restartIdleTimer();
    // The upstream call is a span of the turn's trace, and the upstream may continue it.
    const trace = startClientSpan(`llm ${this.name}`, {
      'gen_ai.system': this.name,
      'gen_ai.request.model': model,
    });
    let failed: unknown;
    try {
      const response = await fetch(this.endpoint('/chat/completions'), {
        method: 'POST',
        headers: { ...this.headers(), ...traceHeaders(trace.context), accept: 'text/event-stream' },
        body: JSON.stringify({
          model,
          messages,
          temperature,
          max_tokens: maxTokens,
          ...(tools?.length ? { tools } : {}),
          stream: true,
          stream_options: { include_usage: true },
        }),
        signal: controller.signal,
      });
      if (!response.ok) throw await errorFromResponse(response);
      if (!response.body) throw new UpstreamError('UPSTREAM_ERROR', 'empty response', retryableFailure);
      if (response.headers.get('content-type')?.includes('application/json')) {
        // A server that ignored `stream: true`, or that answers an error with 200.
        yield* wholeAnswer(await response.text());
        return;
      }
      let finished = false;
      const calls = new ToolCallAssembly();
      for await (const { data } of serverSentEvents(response.body)) {
        restartIdleTimer();
        if (data === '[DONE]') {
          finished = true;
          break;
        }
        const chunk = parseChunk(data);
        if (chunk.finished) finished = true;
        if (chunk.delta) yield { kind: 'token', delta: chunk.delta };
        if (chunk.usage) yield { kind: 'usage', ...chunk.usage };
        calls.add(chunk.toolCalls);
      }
      if (!finished)
        throw new UpstreamError('UPSTREAM_INTERRUPTED', 'stream ended before [DONE]', retryableFailure);
      // Calls are whole only once the stream ended: their arguments come in pieces.
      if (calls.size) yield { kind: 'toolCalls', calls: calls.complete() };
    } catch (error) {
      failed = error;
      if (signal.aborted)
        throw new UpstreamError('CANCELLED', 'cancelled', { retryable: false, failure: false });
      if (timedOut)
        throw new UpstreamError(
          'UPSTREAM_TIMEOUT',
          `no data from upstream for ${this.options.timeoutMs} ms`,
          retryableFailure,
        );
      throw error;
    } finally {
      endSpan(trace.span, failed);
      clearTimeout(idle);
      signal.removeEventListener('abort', cancel);
      // Leaving early (error, consumer gone) must close the upstream connection too.
      controller.abort();
    }
  }

  /**
   * One call passed through as sent (POST `path`, e.g. /embeddings) behind the breaker: the answer
   * whatever its status, which a 5xx counts against. Not retried: the call may have had effects.
   * Throws UPSTREAM_UNAVAILABLE when the breaker is open or the provider cannot be reached, and
   * UPSTREAM_TIMEOUT when it stays silent longer than the timeout.
   */
  async relay(
    path: string,
    body: string,
  ): Promise<{ status: number; contentType: string | null; body: Buffer }> {
    if (!this.breaker.tryAcquire())
      throw new UpstreamError('UPSTREAM_UNAVAILABLE', `provider ${this.name} is unavailable (circuit open)`, {
        retryable: false,
        failure: false,
      });
    try {
      const response = await fetch(this.endpoint(path), {
        method: 'POST',
        headers: this.headers(),
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const answer = Buffer.from(await response.arrayBuffer());
      if (response.status >= 500) this.breaker.failed(`HTTP ${response.status}`);
      else this.breaker.succeeded();
      return { status: response.status, contentType: response.headers.get('content-type'), body: answer };
    } catch (caught) {
      const timedOut = (caught as Error).name === 'TimeoutError';
      const error = timedOut
        ? new UpstreamError('UPSTREAM_TIMEOUT', `no answer from upstream in ${this.options.timeoutMs} ms`, {
            retryable: false,
            failure: true,
          })
        : asUpstreamError(caught, false);
      this.breaker.failed(error.message);
      throw error;
    }
  }

  /**
   * A streaming call passed through as sent: the response once its headers came (within the
   * timeout), its body left to the caller to read. Aborting `signal` ends the upstream request. The
   * breaker counts a 5xx or no answer against the provider; throws like {@link relay}.
   */
  async relayStream(path: string, body: string, signal: AbortSignal): Promise<Response> {
    if (!this.breaker.tryAcquire())
      throw new UpstreamError('UPSTREAM_UNAVAILABLE', `provider ${this.name} is unavailable (circuit open)`, {
        retryable: false,
        failure: false,
      });
    const controller = new AbortController();
    const cancel = () => controller.abort();
    signal.addEventListener('abort', cancel, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    try {
      const response = await fetch(this.endpoint(path), {
        method: 'POST',
        headers: { ...this.headers(), accept: 'text/event-stream' },
        body,
        signal: controller.signal,
      });
      if (response.status >= 500) this.breaker.failed(`HTTP ${response.status}`);
      else this.breaker.succeeded();
      return response;
    } catch (caught) {
      if (signal.aborted) {
        this.breaker.released();
        throw new UpstreamError('CANCELLED', 'cancelled', { retryable: false, failure: false });
      }
      const error = timedOut
        ? new UpstreamError('UPSTREAM_TIMEOUT', `no answer from upstream in ${this.options.timeoutMs} ms`, {
            retryable: false,
            failure: true,
          })
        : asUpstreamError(caught, false);
      this.breaker.failed(error.message);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** GET /models: is the upstream there, and does it list its models the OpenAI way? */
  async probe(): Promise<ProbeResult> {
    try {
      const response = await fetch(this.endpoint('/models'), {
        headers: this.headers(),
        signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      });
      const body: unknown = await response.json().catch(() => null);
      const data = (body as { data?: unknown } | null)?.data;
      const models =
        response.ok && Array.isArray(data)
          ? data.map((model) => String((model as { id?: unknown }).id ?? '')).filter(Boolean)
          : null;
      return { reachable: true, models };
    } catch {
      return { reachable: false, models: null };
    }
  }
}

const retryableFailure = { retryable: true, failure: true };

function asUpstreamError(error: unknown, afterFirstToken: boolean): UpstreamError {
  if (error instanceof UpstreamError) {
    if (!afterFirstToken || error.code === 'CANCELLED') return error;
    return new UpstreamError('UPSTREAM_INTERRUPTED', error.message, { retryable: false, failure: true });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new UpstreamError(
    afterFirstToken ? 'UPSTREAM_INTERRUPTED' : 'UPSTREAM_UNAVAILABLE',
    `upstream connection failed: ${message}`,
    retryableFailure,
  );
}

/** The message of an error body: OpenAI's `{error: {message, type, code}}`, else whatever it has. */
function errorDetail(body: { error?: unknown; detail?: unknown } | null): string | undefined {
  const error = body?.error;
  const detail =
    typeof error === 'string' ? error : ((error as { message?: unknown } | null)?.message ?? body?.detail);
  if (typeof detail === 'string') return detail;
  return error ? 'error' : undefined;
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

const asObject = (value: unknown): Record<string, unknown> | null =>
  value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : null;

async function errorFromResponse(response: Response): Promise<UpstreamError> {
  const text = await response.text().catch(() => '');
  const message = errorDetail(asObject(parseJson(text))) ?? (text.slice(0, 500) || response.statusText);
  const serverSide = response.status >= 500 || response.status === 429 || response.status === 408;
  return new UpstreamError(
    serverSide ? 'UPSTREAM_ERROR' : 'UPSTREAM_REJECTED',
    `upstream answered ${response.status}: ${message}`,
    { retryable: serverSide, failure: serverSide },
  );
}

interface ParsedChunk {
  delta?: string;
  toolCalls?: unknown;
  usage?: { promptTokens: number; completionTokens: number };
  finished: boolean;
}

/** Usage both of whose counts are sane; anything else (negative, not numbers) is not trusted. */
function usageOf(value: unknown): ParsedChunk['usage'] {
  const usage = asObject(value);
  const promptTokens = tokenCount(usage?.prompt_tokens);
  const completionTokens = tokenCount(usage?.completion_tokens);
  return promptTokens === undefined || completionTokens === undefined
    ? undefined
    : { promptTokens, completionTokens };
}

/** A chunk (or a whole answer) that is not JSON, not an object, or says it is an error, is refused. */
function parseObject(data: string, what: string): Record<string, unknown> {
  const parsed = asObject(parseJson(data));
  if (!parsed)
    throw new UpstreamError('UPSTREAM_ERROR', `upstream sent ${what} that is not JSON`, retryableFailure);
  if (parsed.error)
    throw new UpstreamError('UPSTREAM_ERROR', `upstream error: ${errorDetail(parsed)}`, retryableFailure);
  return parsed;
}

function firstChoice(body: Record<string, unknown>): Record<string, unknown> | null {
  return Array.isArray(body.choices) ? asObject(body.choices[0]) : null;
}

function parseChunk(data: string): ParsedChunk {
  const chunk = parseObject(data, 'a chunk');
  const choice = firstChoice(chunk);
  const content = asObject(choice?.delta)?.content;
  return {
    delta: typeof content === 'string' && content !== '' ? safeText(content) : undefined,
    toolCalls: asObject(choice?.delta)?.tool_calls,
    usage: usageOf(chunk.usage),
    finished: Boolean(choice?.finish_reason) || Boolean(chunk.usage),
  };
}

/** A whole (non-streamed) chat completion, as the chunks a stream would have carried. */
function* wholeAnswer(text: string): Generator<UpstreamChunk> {
  const body = parseObject(text, 'an answer');
  const message = asObject(firstChoice(body)?.message);
  const content = message?.content;
  const calls = new ToolCallAssembly();
  calls.add(message?.tool_calls);
  if (typeof content !== 'string' && !calls.size)
    throw new UpstreamError('UPSTREAM_ERROR', 'upstream answered JSON without a message', retryableFailure);
  if (typeof content === 'string' && content) yield { kind: 'token', delta: safeText(content) };
  if (calls.size) yield { kind: 'toolCalls', calls: calls.complete() };
  const usage = usageOf(body.usage);
  if (usage) yield { kind: 'usage', ...usage };
}

/**
 * Tool calls put together from a stream's pieces: OpenAI sends each call's id and name once, under
 * its `index`, and its arguments in fragments to be joined. Bounded in count and length.
 */
class ToolCallAssembly {
  private readonly calls = new Map<number, UpstreamToolCall>();

  get size(): number {
    return this.calls.size;
  }

  add(pieces: unknown): void {
    if (!Array.isArray(pieces)) return;
    for (const [position, value] of pieces.entries()) {
      const piece = asObject(value);
      const fn = asObject(piece?.function);
      const index = typeof piece?.index === 'number' ? piece.index : position;
      let call = this.calls.get(index);
      if (!call) {
        if (this.calls.size >= MAX_TOOL_CALLS) continue;
        this.calls.set(index, (call = { id: '', name: '', arguments: '' }));
      }
      if (typeof piece?.id === 'string' && !call.id) call.id = safeText(piece.id.slice(0, 200));
      if (typeof fn?.name === 'string' && !call.name) call.name = safeText(fn.name.slice(0, 200));
      if (typeof fn?.arguments === 'string' && call.arguments.length < MAX_TOOL_ARGUMENTS_CHARS)
        call.arguments = safeText((call.arguments + fn.arguments).slice(0, MAX_TOOL_ARGUMENTS_CHARS));
    }
  }

  /** The calls in index order, each with an id (made up when the upstream sent none). */
  complete(): UpstreamToolCall[] {
    return [...this.calls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, call]) => ({ ...call, id: call.id || `call_${index}` }));
  }
}
