import type { Logger } from './logger';
import type { Stoppable } from './subgraph';

/**
 * A background job: runs `pass` `intervalMs` after the previous pass ended, so passes never
 * overlap on one replica. A failing pass is logged with `failure` and the next one still comes;
 * `stop` waits for the pass under way.
 */
export function repeatEvery(
  intervalMs: number,
  log: Logger,
  failure: string,
  pass: () => Promise<unknown>,
): Stoppable {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const loop = () => {
    running = pass()
      .catch((error: unknown) => log.error({ err: error }, failure))
      .finally(() => {
        if (!stopped) timer = setTimeout(loop, intervalMs);
      });
  };
  timer = setTimeout(loop, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
