import type { Logger, PubSub } from '../../lib';
import { ScheduleRun } from './schedule.entity';

/** Each account's schedule runs travel on a topic of their own: nobody else's reach a subscriber. */
export const scheduleRunTopic = (ownerId: string) => `schedule.runs.${ownerId}`;

/** Published after commit; a lost event must not undo a run, so failures are logged. */
export async function publishScheduleRuns(deps: { pubsub: PubSub; log: Logger }, runs: ScheduleRun[]) {
  for (const run of runs) {
    try {
      await deps.pubsub.publish(scheduleRunTopic(run.ownerId), run);
    } catch (error) {
      deps.log.error({ err: error, runId: run.id }, 'schedule run event not published');
    }
  }
}

/** A run as it travelled (JSON): its times are dates again. */
export function runFromPayload(payload: Record<string, unknown>): ScheduleRun {
  return Object.assign(new ScheduleRun(), payload, {
    dueAt: new Date(payload.dueAt as string),
    ranAt: new Date(payload.ranAt as string),
  });
}
