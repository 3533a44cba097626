import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { SUBGRAPHS, type Logger, type PeerUrls, type SubgraphName } from '../lib';
import type { Secrets } from '../router/gateway';

/**
 * The all-in-one start as separate processes, so the router and the subgraphs each get a core: one
 * router process and the six subgraphs spread over the remaining cores (at least one process).
 * The launcher supervises them as one: it starts them, tells every subgraph where its peers are,
 * stops them in order, and stops everything when one of them dies.
 */

/** What the launcher tells a worker (launcher/worker.ts) over the IPC channel. */
export type ToWorker =
  | {
      type: 'start';
      role: 'subgraphs';
      names: SubgraphName[];
      databaseUrl: string;
      secrets: Secrets;
      /** Create the first admin (embedded PostgreSQL's first start) and report its API key. */
      firstAdmin: boolean;
    }
  | { type: 'start'; role: 'router'; subgraphUrls: Record<SubgraphName, string>; secrets: Secrets }
  | { type: 'peers'; peerUrls: PeerUrls }
  | { type: 'stop' };

/** What a worker answers. */
export type FromWorker =
  | { type: 'started'; urls: Partial<Record<SubgraphName | 'router', string>>; adminKey?: string }
  | { type: 'failed'; message: string };

const WORKER = join(__dirname, 'worker.js');
const STOP_TIMEOUT_MS = 8_000;

/** The subgraphs split round-robin over `processes` groups. */
export function subgraphGroups(processes: number): SubgraphName[][] {
  const count = Math.max(1, Math.min(SUBGRAPHS.length, processes));
  const groups: SubgraphName[][] = Array.from({ length: count }, () => []);
  SUBGRAPHS.forEach((name, index) => groups[index % count].push(name));
  return groups;
}

class Worker {
  readonly child: ChildProcess;
  private stopping = false;

  constructor(
    readonly label: string,
    private readonly log: Logger,
    onCrash: (label: string, code: number | null, signal: NodeJS.Signals | null) => void,
  ) {
    // stdio inherited: a worker logs its JSON lines to the launcher's own output.
    this.child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('exit', (code, signal) => {
      if (!this.stopping) onCrash(label, code, signal);
    });
  }

  /** Sends a start and waits for the worker's answer (or its death). */
  start(message: Extract<ToWorker, { type: 'start' }>): Promise<Extract<FromWorker, { type: 'started' }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (answer: FromWorker) => {
        cleanup();
        if (answer.type === 'failed') reject(new Error(`${this.label}: ${answer.message}`));
        else resolve(answer);
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`${this.label} exited with code ${code} while starting`));
      };
      const cleanup = () => {
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
      };
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      this.child.send(message);
    });
  }

  send(message: ToWorker): void {
    if (this.child.connected) this.child.send(message);
  }

  /** Asks the worker to close its servers; kills it if it has not exited in time. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.send({ type: 'stop' } satisfies ToWorker);
    else this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      this.log.error({ process: this.label }, 'worker did not stop in time, killing it');
      this.child.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
}

export interface RunningProcesses {
  routerUrl: string;
  subgraphUrls: Record<SubgraphName, string>;
  adminKey?: string;
  /** Each worker's process id by its label ('router', 'subgraphs accounts,memory', …), for measuring. */
  pids: Record<string, number>;
  close(): Promise<void>;
}

export interface StartProcessesOptions {
  databaseUrl: string;
  secrets: Secrets;
  firstAdmin: boolean;
  log: Logger;
  /** Called once when a worker dies on its own; the launcher then stops everything. */
  onCrash: (label: string) => void;
  /** How many processes the subgraphs share; default: one per core left beside the router. */
  subgraphProcesses?: number;
}

export async function startProcesses(options: StartProcessesOptions): Promise<RunningProcesses> {
  const { log } = options;
  // During start-up a death rejects the start instead; afterwards the launcher hears of it once.
  let running = false;
  const onCrash = (label: string, code: number | null, signal: NodeJS.Signals | null) => {
    log.error({ process: label, code, signal }, 'worker process exited unexpectedly');
    if (!running) return;
    running = false;
    options.onCrash(label);
  };
  const groups = subgraphGroups(options.subgraphProcesses ?? availableParallelism() - 1);
  const subgraphWorkers = groups.map((names) => new Worker(`subgraphs ${names.join(',')}`, log, onCrash));
  // Forked now so that it loads its code while the subgraphs migrate and start.
  const router = new Worker('router', log, onCrash);
  // Router first, then the subgraphs: in-flight requests end before their subgraphs go.
  const close = async () => {
    running = false;
    await router.stop();
    await Promise.all(subgraphWorkers.map((worker) => worker.stop()));
  };
  try {
    const started = await Promise.all(
      subgraphWorkers.map((worker, index) =>
        worker.start({
          type: 'start',
          role: 'subgraphs',
          names: groups[index],
          databaseUrl: options.databaseUrl,
          secrets: options.secrets,
          firstAdmin: options.firstAdmin && groups[index].includes('accounts'),
        }),
      ),
    );
    const subgraphUrls = Object.assign({}, ...started.map((answer) => answer.urls)) as Record<
      SubgraphName,
      string
    >;
    for (const worker of subgraphWorkers) worker.send({ type: 'peers', peerUrls: subgraphUrls });
    const routed = await router.start({
      type: 'start',
      role: 'router',
      subgraphUrls,
      secrets: options.secrets,
    });
    running = true;
    return {
      routerUrl: routed.urls.router!,
      subgraphUrls,
      adminKey: started.find((answer) => answer.adminKey)?.adminKey,
      pids: Object.fromEntries(
        [router, ...subgraphWorkers].map((worker) => [worker.label, worker.child.pid!]),
      ),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
