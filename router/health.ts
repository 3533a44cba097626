import type { SubgraphName } from '../lib';

export interface SubgraphHealth {
  reachable: boolean;
  latencyMs: number;
  error?: string;
  /** What the subgraph reports of the outside services it uses (the LLM providers). */
  upstream?: Record<string, unknown>;
}

const PROBE_TIMEOUT_MS = 2000;

async function probe(graphqlUrl: string): Promise<SubgraphHealth> {
  const started = performance.now();
  const healthUrl = new URL('/health', graphqlUrl);
  try {
    const response = await fetch(healthUrl, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    const body = (await response.json().catch(() => ({}))) as { upstream?: Record<string, unknown> };
    const latencyMs = Math.round(performance.now() - started);
    const upstream = body.upstream && { upstream: body.upstream };
    return response.ok
      ? { reachable: true, latencyMs, ...upstream }
      : { reachable: false, latencyMs, error: `HTTP ${response.status}`, ...upstream };
  } catch (error) {
    return {
      reachable: false,
      latencyMs: Math.round(performance.now() - started),
      error: (error as Error).message,
    };
  }
}

/**
 * Liveness, version, uptime and each subgraph's reachability, probed in parallel. An unreachable
 * upstream (LLM) is reported, not counted: the platform still serves everything but chat.
 */
export async function checkHealth(urls: Record<SubgraphName, string>, version: string, startedAt: number) {
  const entries = await Promise.all(
    Object.entries(urls).map(async ([name, url]) => [name, await probe(url)] as const),
  );
  const subgraphs = Object.fromEntries(entries) as Record<SubgraphName, SubgraphHealth>;
  const healthy = entries.every(([, health]) => health.reachable);
  const llm = subgraphs.sessions?.upstream?.llm as { status?: string } | undefined;
  const llmConnected = subgraphs.sessions?.reachable === true && llm?.status === 'connected';
  const flags = capabilityFlags((name) => subgraphs[name]?.reachable === true, llmConnected);
  return {
    status: healthy ? 'ok' : 'degraded',
    version,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    subgraphs,
    // 001's health: the upstream LLM's status and the platform's capabilities (000's names).
    health: healthy ? 'healthy' : 'degraded',
    upstream: llm ?? { status: 'unknown' },
    capabilities: Object.keys(flags).filter((name) => flags[name as Capability]),
    capability_status: flags,
  };
}

/** 000's platform capabilities, in its order. */
export const CAPABILITIES = [
  'gaze_data_storage',
  'gaze_data_retrieval',
  'gaze_pattern_analysis',
  'context_awareness',
  'ai_chat',
  'usage_analytics',
  'tempo_billing',
  'task_escrow',
] as const;

export type Capability = (typeof CAPABILITIES)[number];

/**
 * Each capability is on only while what serves it answers: gaze samples and their attestation live
 * in accounts, memory (the chat's context) in memory, chat and its metering in sessions (chat also
 * needs a connected LLM), Tempo billing is a metered LLM call paid from the wallet, task escrow is
 * tasks plus wallet.
 */
export function capabilityFlags(
  reachable: (name: SubgraphName) => boolean,
  llmConnected: boolean,
): Record<Capability, boolean> {
  const gaze = reachable('accounts');
  return {
    gaze_data_storage: gaze,
    gaze_data_retrieval: gaze,
    gaze_pattern_analysis: gaze,
    context_awareness: reachable('memory'),
    ai_chat: llmConnected,
    usage_analytics: reachable('sessions'),
    tempo_billing: llmConnected && reachable('wallet'),
    task_escrow: reachable('tasks') && reachable('wallet'),
  };
}
