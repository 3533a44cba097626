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
  return {
    status: healthy ? 'ok' : 'degraded',
    version,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    subgraphs,
  };
}
