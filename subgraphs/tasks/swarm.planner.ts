/**
 * Swarm planning: asks the upstream LLM (any OpenAI-compatible server, `LLM_BASE_URL`) to split a
 * goal into subtasks, then checks the answer. Kept apart from the sessions subgraph's chat client:
 * each subgraph is its own service, and one non-streaming request needs only fetch.
 */
import { z } from 'zod';
import { AppError, loadConfig, safeText } from '../../lib';

export enum SwarmStrategy {
  /** Every subtask can be claimed at once. */
  PARALLEL = 'PARALLEL',
  /** Each subtask waits for the one before it. */
  SEQUENTIAL = 'SEQUENTIAL',
  /** The model says which subtask waits for which; a cycle is refused. */
  DAG = 'DAG',
}

export const MIN_AGENTS = 2;
export const MAX_AGENTS = 20;

/** A subtask as planned: `dependsOn` holds keys of other subtasks of the same plan. */
export interface PlannedSubtask {
  key: string;
  title: string;
  description: string;
  dependsOn: string[];
}

/**
 * A string of the model's plan: NUL and lone surrogates (which PostgreSQL and the event stream's
 * JSON refuse) become U+FFFD, as in streamed tokens; two keys that only differed there then collide
 * and the plan is refused.
 */
const upstreamText = (min: number, max: number) => z.string().trim().min(min).max(max).transform(safeText);

const planSchema = z.object({
  subtasks: z
    .array(
      z.object({
        key: upstreamText(1, 64),
        title: upstreamText(1, 200),
        description: upstreamText(0, 10_000).default(''),
        dependsOn: z.array(upstreamText(1, 64)).max(MAX_AGENTS).default([]),
      }),
    )
    .min(1)
    .max(MAX_AGENTS),
});

const invalidPlan = (reason: string, details: Record<string, unknown> = {}) =>
  new AppError('UPSTREAM_INVALID_PLAN', `the upstream LLM returned an unusable plan: ${reason}`, details);

const systemPrompt = (strategy: SwarmStrategy, agentCount: number) =>
  [
    `You split a goal into at most ${agentCount} subtasks, one per agent.`,
    'Answer with JSON only, exactly of this shape:',
    '{ "subtasks": [{ "key": "short-unique-key", "title": "…", "description": "…", "dependsOn": ["keys of subtasks that must finish first"] }] }',
    strategy === SwarmStrategy.DAG
      ? 'dependsOn names only keys of other subtasks in the list, and must not form a cycle.'
      : 'Leave dependsOn empty.',
  ].join('\n');

/** The model's answer as checked subtasks, or UPSTREAM_INVALID_PLAN. */
export function parsePlan(content: string, agentCount: number): PlannedSubtask[] {
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch {
    throw invalidPlan('not JSON');
  }
  const parsed = planSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidPlan(`${issue.path.join('.') || 'plan'}: ${issue.message}`);
  }
  const subtasks = parsed.data.subtasks.map((s) => ({ ...s, dependsOn: [...new Set(s.dependsOn)] }));
  if (subtasks.length > agentCount) throw invalidPlan(`${subtasks.length} subtasks for ${agentCount} agents`);
  const keys = new Set(subtasks.map((s) => s.key));
  if (keys.size !== subtasks.length) throw invalidPlan('two subtasks share a key');
  for (const s of subtasks)
    for (const dependency of s.dependsOn)
      if (!keys.has(dependency)) throw invalidPlan(`${s.key} depends on unknown subtask ${dependency}`);
  return subtasks;
}

/**
 * The subtasks in an order where each comes after what it depends on (Kahn's algorithm), or
 * UPSTREAM_INVALID_PLAN naming the subtasks caught in a cycle.
 */
export function topologicalOrder(subtasks: readonly PlannedSubtask[]): PlannedSubtask[] {
  const waiting = new Map(subtasks.map((s) => [s.key, new Set(s.dependsOn)]));
  const ordered: PlannedSubtask[] = [];
  let ready = subtasks.filter((s) => s.dependsOn.length === 0);
  while (ready.length) {
    ordered.push(...ready);
    const done = new Set(ready.map((s) => s.key));
    ready = [];
    for (const s of subtasks) {
      const left = waiting.get(s.key)!;
      if (!left.size) continue;
      for (const key of done) left.delete(key);
      if (!left.size) ready.push(s);
    }
  }
  if (ordered.length < subtasks.length) {
    const cycle = subtasks.filter((s) => waiting.get(s.key)!.size).map((s) => s.key);
    throw invalidPlan(`its dependencies form a cycle through ${cycle.join(', ')}`, { cycle });
  }
  return ordered;
}

/** Applies the strategy: SEQUENTIAL chains in the model's order, PARALLEL drops every dependency. */
export function arrange(subtasks: readonly PlannedSubtask[], strategy: SwarmStrategy): PlannedSubtask[] {
  if (strategy === SwarmStrategy.PARALLEL) return subtasks.map((s) => ({ ...s, dependsOn: [] }));
  if (strategy === SwarmStrategy.SEQUENTIAL)
    return subtasks.map((s, i) => ({ ...s, dependsOn: i ? [subtasks[i - 1].key] : [] }));
  return topologicalOrder(subtasks);
}

/** Asks the upstream for a plan of `goal`; UPSTREAM_UNAVAILABLE when none is configured or it fails. */
export async function planSwarm(
  goal: string,
  strategy: SwarmStrategy,
  agentCount: number,
): Promise<PlannedSubtask[]> {
  const config = loadConfig();
  if (!config.LLM_BASE_URL)
    throw new AppError('UPSTREAM_UNAVAILABLE', 'no upstream LLM is connected (LLM_BASE_URL is not set)');
  let content: unknown;
  try {
    const response = await fetch(`${config.LLM_BASE_URL.replace(/\/$/, '')}/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(config.LLM_API_KEY ? { authorization: `Bearer ${config.LLM_API_KEY}` } : {}),
      },
      body: JSON.stringify({
        model: config.LLM_DEFAULT_MODEL,
        stream: false,
        response_format: { type: 'json_object' },
        messages: [
          { role: 'system', content: systemPrompt(strategy, agentCount) },
          { role: 'user', content: goal },
        ],
      }),
      signal: AbortSignal.timeout(config.LLM_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`status ${response.status}`);
    const body = (await response.json()) as { choices?: { message?: { content?: unknown } }[] };
    content = body.choices?.[0]?.message?.content;
  } catch (error) {
    throw new AppError(
      'UPSTREAM_UNAVAILABLE',
      `the upstream LLM did not answer: ${(error as Error).message}`,
    );
  }
  if (typeof content !== 'string') throw invalidPlan('no message content');
  return arrange(parsePlan(content, agentCount), strategy);
}
