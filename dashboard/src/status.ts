import type { Api, Budget } from './api';
import { el } from './list';
import { ADMIN_FIGURES, STATUS } from './operations';

const POLL_MS = 10_000;

interface Health {
  status: string;
  version: string;
  uptimeSeconds: number;
  subgraphs: Record<string, { reachable: boolean; latencyMs: number; error?: string }>;
}

interface Status {
  llmProviders: {
    name: string;
    state: string;
    consecutiveFailures: number;
    lastError: string | null;
    retryAt: string | null;
  }[];
  gatewayStatus: { status: string; model: string; activeTurns: number };
}

interface AdminFigures {
  taskStats: { total: number; queueDepth: number; webhookQueueDepth: number | null };
  ledgerThroughput: { transfersPerSecond: number; capped: boolean };
}

/** A definition list of label → value pairs, replaced whole on each refresh. */
function figures(target: HTMLElement, pairs: [string, string, string?][]) {
  target.replaceChildren(
    ...pairs.flatMap(([label, value, tone]) => [el('dt', '', label), el('dd', tone ?? '', value)]),
  );
}

/**
 * Platform health (subgraphs from /health, upstream providers and their breakers), the caller's
 * rate-limit budget (from the headers of every answer), and for admins platform-wide figures.
 * These change slowly and have no subscription: they are read every ten seconds.
 */
export function startStatus(root: HTMLElement, api: Api, admin: boolean): () => void {
  const health = root.querySelector<HTMLElement>('#health .figures')!;
  const providers = root.querySelector<HTMLElement>('#providers .figures')!;
  const budget = root.querySelector<HTMLElement>('#budget .figures')!;
  const platform = root.querySelector<HTMLElement>('#platform')!;
  const platformFigures = platform.querySelector<HTMLElement>('.figures')!;
  platform.hidden = !admin;

  api.onBudget((b: Budget) =>
    figures(budget, [
      ['remaining', `${b.remaining} of ${b.limit}`, b.remaining < b.limit / 10 ? 'bad' : 'good'],
      ['window resets in', `${b.resetSeconds} s`],
    ]),
  );

  const refresh = async () => {
    const [healthResult, statusResult, adminResult] = await Promise.allSettled([
      api.health() as Promise<Health>,
      api.request<Status>(STATUS),
      admin ? api.request<AdminFigures>(ADMIN_FIGURES) : null,
    ]);
    if (healthResult.status === 'fulfilled') {
      const h = healthResult.value;
      figures(health, [
        ['platform', h.status, h.status === 'ok' ? 'good' : 'bad'],
        ['version', h.version],
        ['uptime', `${h.uptimeSeconds} s`],
        ...Object.entries(h.subgraphs).map(([name, s]): [string, string, string] => [
          name,
          s.reachable ? `up · ${s.latencyMs} ms` : `down · ${s.error ?? ''}`,
          s.reachable ? 'good' : 'bad',
        ]),
      ]);
    } else figures(health, [['platform', 'unreachable', 'bad']]);
    if (statusResult.status === 'fulfilled') {
      const { llmProviders, gatewayStatus } = statusResult.value;
      figures(providers, [
        ['upstream', `${gatewayStatus.status} · ${gatewayStatus.model}`],
        ...llmProviders.map((p): [string, string, string] => [
          p.name,
          `breaker ${p.state.toLowerCase()}${p.consecutiveFailures ? ` · ${p.consecutiveFailures} failures` : ''}${p.lastError ? ` · ${p.lastError}` : ''}`,
          p.state === 'CLOSED' ? 'good' : 'bad',
        ]),
      ]);
      if (admin) platformFigures.dataset.activeTurns = String(gatewayStatus.activeTurns);
    } else figures(providers, [['providers', (statusResult.reason as Error).message, 'bad']]);
    if (admin && adminResult.status === 'fulfilled' && adminResult.value) {
      const { taskStats, ledgerThroughput } = adminResult.value;
      const rate = ledgerThroughput.transfersPerSecond;
      figures(platformFigures, [
        ['answers streaming', platformFigures.dataset.activeTurns ?? '?'],
        ['transfers/s', `${ledgerThroughput.capped ? '≥ ' : ''}${rate.toFixed(1)}`],
        ['webhook queue', String(taskStats.webhookQueueDepth ?? '?')],
        ['open tasks', `${taskStats.queueDepth} of ${taskStats.total}`],
      ]);
    } else if (admin && adminResult.status === 'rejected')
      figures(platformFigures, [['figures', (adminResult.reason as Error).message, 'bad']]);
  };
  void refresh();
  const timer = setInterval(() => void refresh(), POLL_MS);
  return () => clearInterval(timer);
}
