import type { EntityData, EntityName, FilterQuery } from '@mikro-orm/core';
import type { EntityManager, RunQueryBuilder, UpdateQueryBuilder } from '@mikro-orm/postgresql';

/*
 * Once-only changes (revoke, close, delete) are each one conditional statement. Of N concurrent
 * identical calls, Postgres lets exactly one statement match the row; the others wait for its
 * commit, re-check the condition and match nothing. Reading the row first and writing it back
 * later would let every caller see the old state and each answer "changed now".
 */

async function changedRows<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  query: RunQueryBuilder<T>,
): Promise<T[]> {
  const rows: EntityData<T>[] = await em.execute(query.getKnexQuery().returning('*'));
  // Hydrated into `em`, so an entity the caller loaded before now shows the change.
  return rows.map((row) => em.map(entity, row));
}

/**
 * `UPDATE … SET changes WHERE where RETURNING *`: the rows this statement changed, none when the
 * condition no longer held. `refine` adds conditions the filter syntax cannot express.
 */
export function updateReturning<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
  changes: EntityData<T>,
  refine?: (query: UpdateQueryBuilder<T>) => void,
): Promise<T[]> {
  const query = em.createQueryBuilder(entity).update(changes).where(where);
  refine?.(query);
  return changedRows(em, entity, query);
}

/** `DELETE … WHERE where RETURNING *`: the rows this statement deleted, none when already gone. */
export function deleteReturning<T extends object>(
  em: EntityManager,
  entity: EntityName<T>,
  where: FilterQuery<T>,
): Promise<T[]> {
  return changedRows(em, entity, em.createQueryBuilder(entity).delete().where(where));
}
