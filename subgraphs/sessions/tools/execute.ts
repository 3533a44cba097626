/**
 * Running one tool call: its arguments checked against the tool's JSON Schema (ajv), then the call
 * bounded in time and in the size of its answer, then recorded, whatever came of it.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import Ajv2020 from 'ajv/dist/2020';
import { AppError, safeJson, safeText, type EntityManager } from '../../../lib';
import type { Plugin, ToolDefinition, ToolOutcome } from './plugin';
import type { ToolSettings } from './registry';
import { ToolCall, ToolCallStatus } from './tool-call.entity';

// Schemas come from MCP servers: unknown keywords and formats are tolerated, not refused.
const draft07 = new Ajv({ strict: false, allErrors: false });
const draft2020 = new Ajv2020({ strict: false, allErrors: false });

/** Compiled validators by schema text; servers list the same few schemas again and again. */
const validators = new Map<string, ValidateFunction | Error>();
const MAX_VALIDATORS = 1000;

function validatorOf(schema: Record<string, unknown>): ValidateFunction | Error {
  const key = JSON.stringify(schema);
  let validator = validators.get(key);
  if (!validator) {
    const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
    const ajv = /draft-0[4-7]/.test(declared) ? draft07 : draft2020;
    try {
      validator = ajv.compile(schema);
    } catch (error) {
      validator = error instanceof Error ? error : new Error(String(error));
    }
    if (validators.size >= MAX_VALIDATORS) validators.clear();
    validators.set(key, validator);
  }
  return validator;
}

/** Why arguments do not fit a tool's schema, or null when they do. */
export function argumentProblem(tool: ToolDefinition, args: unknown): string | null {
  if (args === null || typeof args !== 'object' || Array.isArray(args))
    return 'arguments must be a JSON object';
  const validate = validatorOf(tool.inputSchema);
  if (validate instanceof Error) return `the tool's input schema cannot be used: ${validate.message}`;
  if (validate(args)) return null;
  const [first] = validate.errors ?? [];
  return `invalid arguments for ${tool.name}: ${first ? `${first.instancePath || '/'} ${first.message}` : 'refused'}`;
}

/** How a call that did not answer usably failed; `code` is the GraphQL error code it answers with. */
export class ToolFailure extends Error {
  constructor(
    readonly code: 'GATEWAY_TIMEOUT' | 'BAD_GATEWAY' | 'BAD_USER_INPUT',
    message: string,
  ) {
    super(safeText(message));
  }
}

/**
 * Calls a tool within the time limit (and `signal`, a turn's cancel) and checks the answer's size.
 * Throws {@link ToolFailure}.
 */
export async function invokeTool(
  plugin: Plugin,
  tool: string,
  args: Record<string, unknown>,
  ownerId: string,
  settings: ToolSettings,
  signal?: AbortSignal,
): Promise<ToolOutcome> {
  const limit = AbortSignal.timeout(settings.timeoutMs);
  const combined = signal ? AbortSignal.any([limit, signal]) : limit;
  let outcome: ToolOutcome;
  try {
    // A tool that ignores the signal still cannot hold the caller past the limit.
    outcome = await Promise.race([
      plugin.call(tool, args, { ownerId, signal: combined }),
      new Promise<never>((_, reject) => {
        const stop = () => reject(combined.reason as Error);
        if (combined.aborted) stop();
        else combined.addEventListener('abort', stop, { once: true });
      }),
    ]);
  } catch (error) {
    if (limit.aborted)
      throw new ToolFailure('GATEWAY_TIMEOUT', `tool ${tool} did not answer within ${settings.timeoutMs} ms`);
    if (signal?.aborted) throw new ToolFailure('BAD_GATEWAY', 'cancelled');
    throw new ToolFailure(
      'BAD_GATEWAY',
      `tool ${tool} failed: ${error instanceof Error ? error.message : String(error)}`.slice(0, 1000),
    );
  }
  if (outcome.output.length > settings.resultMaxChars)
    throw new ToolFailure(
      'BAD_GATEWAY',
      `tool ${tool} answered ${outcome.output.length} characters, over the limit of ${settings.resultMaxChars}`,
    );
  const metadataSize = outcome.metadata == null ? 0 : JSON.stringify(outcome.metadata).length;
  if (metadataSize > settings.resultMaxChars)
    throw new ToolFailure('BAD_GATEWAY', `tool ${tool} answered structured content over the size limit`);
  return { ...outcome, output: safeText(outcome.output), metadata: safeJson(outcome.metadata) };
}

interface CallRecord {
  turnId: string | null;
  ownerId: string;
  plugin: string;
  tool: string;
  args: unknown;
  startedAt: number;
  outcome?: ToolOutcome;
  failure?: ToolFailure;
}

/** Stores how a call went; its own unit of work, so a turn's other writes are not flushed with it. */
async function recordToolCall(em: EntityManager, record: CallRecord): Promise<ToolCall> {
  const fork = em.fork();
  const { outcome, failure } = record;
  const call = fork.create(ToolCall, {
    turnId: record.turnId,
    ownerId: record.ownerId,
    plugin: record.plugin,
    tool: record.tool,
    // A model's arguments and a server's structured answer may hold what jsonb refuses (NUL, lone surrogates).
    arguments: safeJson(record.args ?? {}),
    output: outcome?.output ?? null,
    metadata: safeJson(outcome?.metadata ?? null),
    status: failure
      ? ToolCallStatus.ERROR
      : outcome?.success
        ? ToolCallStatus.SUCCESS
        : ToolCallStatus.FAILED,
    error: failure?.message ?? null,
    durationMs: Math.round(performance.now() - record.startedAt),
  });
  await fork.flush();
  return call;
}

export const asAppError = (failure: ToolFailure) => new AppError(failure.code, failure.message);

export interface ToolRun {
  plugin: Plugin;
  tool: ToolDefinition;
  args: unknown;
  ownerId: string;
  turnId: string | null;
  settings: ToolSettings;
  signal?: AbortSignal;
}

/**
 * Runs one call, unless `refusal` says why its arguments were refused, and records it either way.
 * A tool's failure is answered, not thrown; only the record's own failure throws.
 */
export async function runAndRecord(
  em: EntityManager,
  run: ToolRun,
  refusal: string | null = null,
): Promise<{ outcome?: ToolOutcome; failure?: ToolFailure; call: ToolCall }> {
  const startedAt = performance.now();
  let outcome: ToolOutcome | undefined;
  let failure: ToolFailure | undefined;
  if (refusal) failure = new ToolFailure('BAD_USER_INPUT', refusal);
  else
    try {
      const args = run.args as Record<string, unknown>;
      outcome = await invokeTool(run.plugin, run.tool.name, args, run.ownerId, run.settings, run.signal);
    } catch (error) {
      failure = error instanceof ToolFailure ? error : new ToolFailure('BAD_GATEWAY', String(error));
    }
  const call = await recordToolCall(em, {
    turnId: run.turnId,
    ownerId: run.ownerId,
    plugin: run.plugin.name,
    tool: run.tool.name,
    args: run.args,
    startedAt,
    outcome,
    failure,
  });
  return { outcome, failure, call };
}
