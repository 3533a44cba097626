import type { EntityManager } from './db';
import type { Logger } from './logger';
import type { Peers } from './peers';

const OPEN_HOLDS =
  'query OpenHolds($prefix: String!, $age: Int!) { ledgerOpenHolds(idPrefix: $prefix, olderThanSeconds: $age) { id } }';

export interface OrphanHolds {
  /** What every hold id of the flow starts with (`task_`, `turn_`). */
  prefix: string;
  /** Holds younger than this may belong to a request still storing its record: left alone. */
  graceMs: number;
  /** The id of the record a hold is for, or null when the hold is not one of this flow's. */
  recordOf: (holdId: string) => string | null;
  /** The table of those records, quoted ("schema"."table"), keyed by "id". */
  table: string;
  /** Gives one orphan's hold back. */
  voidHold: (recordId: string) => Promise<void>;
}

/**
 * Voids the open holds of a flow whose record was never stored: a process stopped between the
 * hold and the insert (or the insert failed and so did its void). Any replica may run it: the
 * wallet resolves a hold once, and a void that lost the race is logged and left. Answers how many
 * it voided.
 */
export async function voidOrphanHolds(
  deps: { em: EntityManager; peers: Peers; log: Logger },
  orphans: OrphanHolds,
): Promise<number> {
  const { ledgerOpenHolds } = await deps.peers.request<{ ledgerOpenHolds: { id: string }[] }>(
    'wallet',
    OPEN_HOLDS,
    { prefix: orphans.prefix, age: Math.ceil(orphans.graceMs / 1000) },
  );
  const recordIds = ledgerOpenHolds.flatMap((hold) => orphans.recordOf(hold.id) ?? []);
  if (!recordIds.length) return 0;
  const stored = await deps.em.execute<{ id: string }[]>(
    `select "id" from ${orphans.table} where "id" in (${recordIds.map(() => '?').join(', ')})`,
    recordIds,
  );
  const known = new Set(stored.map((row) => row.id));
  let voided = 0;
  for (const recordId of recordIds.filter((id) => !known.has(id))) {
    try {
      await orphans.voidHold(recordId);
      voided++;
    } catch (error) {
      deps.log.warn({ err: error, recordId }, 'orphan hold not voided; retried on the next pass');
    }
  }
  return voided;
}
