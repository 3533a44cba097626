/**
 * Figures of this process for 002's /api/stats/cache and /capacity: hit counts of its caches and
 * how full its bounded resources are. Read over a subgraph's signed /stats and gathered by the
 * accounts subgraph, as the log ring is; counting is a few integer additions, never a query.
 */
import { randomUUID } from 'node:crypto';

/** Tells processes apart, so figures gathered from peers that share this process are kept once. */
export const PROCESS_INSTANCE = randomUUID();

export interface CacheFigures {
  name: string;
  hits: number;
  misses: number;
  entries: number;
}

export interface ResourceFigures {
  name: string;
  /** In use now. */
  used: number;
  /** The most there may be; null when unbounded. */
  limit: number | null;
  /** Waiting for one (a queue). */
  waiting: number;
}

export interface ProcessStats {
  instance: string;
  caches: CacheFigures[];
  resources: ResourceFigures[];
}

const caches = new Map<string, { hits: number; misses: number; size: () => number }>();
const resources = new Map<string, () => Omit<ResourceFigures, 'name'>>();

/** Counts the hits and misses of one cache of this process (the latest registration of a name wins). */
export function countedCache(name: string, size: () => number) {
  const counts = { hits: 0, misses: 0, size };
  caches.set(name, counts);
  return { hit: () => void counts.hits++, miss: () => void counts.misses++ };
}

/** Reports a bounded resource; answers how to stop reporting it (when its owner closes). */
export function reportResource(name: string, read: () => Omit<ResourceFigures, 'name'>): () => void {
  resources.set(name, read);
  return () => {
    if (resources.get(name) === read) resources.delete(name);
  };
}

export function processStats(): ProcessStats {
  return {
    instance: PROCESS_INSTANCE,
    caches: [...caches].map(([name, c]) => ({ name, hits: c.hits, misses: c.misses, entries: c.size() })),
    resources: [...resources].map(([name, read]) => ({ name, ...read() })),
  };
}
