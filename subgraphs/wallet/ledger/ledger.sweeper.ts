import {
  AppError,
  newId,
  repeatEvery,
  type BackgroundDeps,
  type EntityManager,
  type Stoppable,
} from '../../../lib';
import { applyTransfersIn, type TransferResult } from './ledger.engine';
import { publishBalanceChanges } from './ledger.events';
import type { LedgerDeps } from './ledger.service';
import { TransferKind } from './transfer.entity';

/** How often the sweeper looks for holds past their timeout. */
export const SWEEP_INTERVAL_MS = 1000;
const BATCH = 100;

/**
 * Claims due holds another replica is not already expiring (SKIP LOCKED), leaving out those this
 * pass found bad; they stay locked until the claiming transaction ends.
 */
const CLAIM = `
  select "transfer_id" from "wallet"."pending_hold"
  where "timeout_at" <= now()
    and "transfer_id" not in (select jsonb_array_elements_text(?::jsonb))
  order by "timeout_at"
  limit ?
  for update skip locked`;

/**
 * Expires every hold past its timeout: one transaction per batch claims the holds and applies an
 * EXPIRE for each, so each is expired once however many replicas sweep. A batch that fails is
 * retried one hold at a time; a hold that fails alone is logged and skipped until the next pass.
 * Answers how many it expired.
 */
export async function expireDueHolds(deps: LedgerDeps): Promise<number> {
  const skipped: string[] = [];
  let expired = 0;
  let size = BATCH;
  for (;;) {
    let claimed: string[] = [];
    let results: (TransferResult | AppError)[];
    try {
      results = await deps.em.fork().transactional(async (em: EntityManager) => {
        const rows = await em.execute<{ transfer_id: string }[]>(CLAIM, [JSON.stringify(skipped), size]);
        claimed = rows.map((row) => row.transfer_id);
        const expiries = claimed.map((pendingId) => ({
          id: newId('xpr'),
          kind: TransferKind.EXPIRE,
          pendingId,
        }));
        return applyTransfersIn(em, expiries);
      });
    } catch (error) {
      if (claimed.length > 1) {
        size = 1; // find the bad one
        continue;
      }
      if (!claimed.length) throw error; // the claim itself failed: nothing to skip
      deps.log.error({ err: error, pendingId: claimed[0] }, 'hold not expired; skipped');
      skipped.push(claimed[0]);
      continue;
    }
    if (!claimed.length) return expired;
    for (const [index, result] of results.entries()) {
      if (result instanceof AppError) {
        deps.log.warn({ pendingId: claimed[index], err: result }, 'hold not expired; skipped');
        skipped.push(claimed[index]);
      } else if (result.created) {
        expired++;
        await publishBalanceChanges(deps, result.entries);
      }
    }
  }
}

/** The wallet's background job: sweeps expired holds every `intervalMs` on every replica. */
export function startHoldSweeper(
  { orm, pubsub, log }: BackgroundDeps,
  intervalMs = SWEEP_INTERVAL_MS,
): Stoppable {
  return repeatEvery(intervalMs, log, 'hold sweep failed', () =>
    expireDueHolds({ em: orm.em.fork() as unknown as EntityManager, pubsub, log }),
  );
}
