/** What the chat benchmark measures besides latency: CPU by process (Linux /proc) and PostgreSQL's waits. */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { sleep } from './common';

/** Busy and total clock ticks of the whole machine, from /proc/stat (Linux). */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - fields[3] - (fields[4] ?? 0), total };
  } catch {
    return undefined;
  }
}

/** CPU clock ticks (user + system) a local process has used, from /proc/<pid>/stat; 0 if unreadable. */
function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime, stime
  } catch {
    return 0;
  }
}

/** Where the CPU went while tokens streamed, in % of one core. */
export interface CpuShare {
  /** Each of the platform's processes by label (router, subgraph groups), and this one (clients, double). */
  processes: Record<string, number>;
  /** The PostgreSQL backends serving this benchmark's database (when the server runs on this machine). */
  postgres: number | undefined;
  /** PostgreSQL's other processes: WAL writer, checkpointer, other databases' backends. */
  otherPostgres: number | undefined;
  /** Everything else on the machine: other programs, and kernel work not charged to a process. */
  rest: number | undefined;
}

/** Every local PostgreSQL process (postmaster, background workers, backends of any database). */
function postgresPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

/** Starts measuring the CPU of the given processes (label → pid), PostgreSQL's and the machine's. */
export function cpuMeter(processes: Record<string, number>, backendPids: () => Promise<number[]>) {
  const ticksPerSecond = 100; // USER_HZ on Linux
  const ticksOf = (pids: number[]) => new Map(pids.map((pid) => [pid, processTicks(pid)]));
  const grown = (now: Map<number, number>, before: Map<number, number>) =>
    [...now].reduce((sum, [pid, ticks]) => sum + ticks - (before.get(pid) ?? 0), 0);
  const ours = { ...processes, 'bench (clients, double)': process.pid };
  return async () => {
    const started = performance.now();
    const machine0 = machineTicks();
    const processes0 = ticksOf(Object.values(ours));
    const backends0 = ticksOf(await backendPids());
    const postgres0 = ticksOf(postgresPids());
    return async (): Promise<CpuShare> => {
      const elapsedMs = performance.now() - started;
      const machine1 = machineTicks();
      const processes1 = ticksOf(Object.values(ours));
      const backends1 = ticksOf(await backendPids());
      const postgres1 = ticksOf(postgresPids());
      const percent = (ticks: number) => ((ticks / ticksPerSecond) * 100_000) / elapsedMs;
      const byProcess = Object.fromEntries(
        Object.entries(ours).map(([label, pid]) => [
          label,
          percent((processes1.get(pid) ?? 0) - (processes0.get(pid) ?? 0)),
        ]),
      );
      const nodePct = Object.values(byProcess).reduce((a, b) => a + b, 0);
      const backends = backends1.size ? percent(grown(backends1, backends0)) : undefined;
      const allPostgres = postgres1.size ? percent(grown(postgres1, postgres0)) : undefined;
      const machinePct =
        machine0 && machine1
          ? ((machine1.busy - machine0.busy) / (machine1.total - machine0.total)) * 100 * cpus().length
          : undefined;
      return {
        processes: byProcess,
        postgres: backends,
        otherPostgres:
          allPostgres === undefined || backends === undefined
            ? undefined
            : Math.max(0, allPostgres - backends),
        rest:
          machinePct === undefined
            ? undefined
            : Math.max(0, machinePct - nodePct - Math.max(allPostgres ?? 0, backends ?? 0)),
      };
    };
  };
}

/** Samples what the benchmark database's active backends wait on; returns the most frequent waits. */
export function waitSampler(database: pg.Client, name: string) {
  const counts = new Map<string, number>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await database.query<{ wait: string }>(
        `select coalesce(wait_event_type || ':' || wait_event, 'running') as wait from pg_stat_activity
          where datname = $1 and state = 'active' and pid <> pg_backend_pid()`,
        [name],
      );
      for (const { wait } of rows) counts.set(wait, (counts.get(wait) ?? 0) + 1);
      samples += rows.length;
      await sleep(50);
    }
  })();
  return async () => {
    running = false;
    await loop;
    return [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([wait, count]) => `${wait} ${Math.round((count / samples) * 100)}%`)
      .join(', ');
  };
}
