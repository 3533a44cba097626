import { createHash } from 'node:crypto';
import { AppError, badInput, conflict, type SubgraphContext } from '../../lib';

/**
 * `Idempotency-Key` on a paid hire: the first request with a key reserves it (one conditional
 * INSERT); the same key with the same request answers the task it created, with another request
 * it is refused (UNPROCESSABLE), and while the first is still paying, CONFLICT. A reservation whose
 * attempt failed is given back, so the client can retry with the key; one left behind by a crash
 * may be taken over after {@link ABANDONED_AFTER_SECONDS}.
 */

const KEY = /^[\x21-\x7e]{1,255}$/;
const ABANDONED_AFTER_SECONDS = 300;

export type HireReservation =
  | { kind: 'answered'; taskId: string }
  | { kind: 'reserved'; done(taskId: string): Promise<void>; release(): Promise<void> };

/** The digest of what a request asks for: the same body hashes the same. */
export const requestHash = (request: unknown[]) =>
  createHash('sha256').update(JSON.stringify(request)).digest('hex');

export async function reserveHire(
  ctx: Pick<SubgraphContext, 'em'>,
  creatorId: string,
  key: string,
  hash: string,
): Promise<HireReservation> {
  if (!KEY.test(key))
    throw badInput('Idempotency-Key must be 1 to 255 visible ASCII characters', { field: 'idempotencyKey' });
  const connection = ctx.em.getConnection();
  const now = new Date();
  const taken: unknown[] = await connection.execute(
    `insert into "tasks"."hire_request" ("creator_id", "key", "request_hash", "task_id", "created_at")
     values (?, ?, ?, null, ?)
     on conflict ("creator_id", "key") do update set "request_hash" = excluded."request_hash", "created_at" = excluded."created_at"
       where "hire_request"."task_id" is null
         and "hire_request"."request_hash" = excluded."request_hash"
         and "hire_request"."created_at" < ?
     returning "key"`,
    [creatorId, key, hash, now, new Date(now.getTime() - ABANDONED_AFTER_SECONDS * 1000)],
  );
  if (taken.length) {
    const where = `where "creator_id" = ? and "key" = ? and "task_id" is null`;
    return {
      kind: 'reserved',
      done: async (taskId) =>
        void (await connection.execute(`update "tasks"."hire_request" set "task_id" = ? ${where}`, [
          taskId,
          creatorId,
          key,
        ])),
      release: async () =>
        void (await connection.execute(`delete from "tasks"."hire_request" ${where}`, [creatorId, key])),
    };
  }
  const [existing]: { request_hash: string; task_id: string | null }[] = await connection.execute(
    `select "request_hash", "task_id" from "tasks"."hire_request" where "creator_id" = ? and "key" = ?`,
    [creatorId, key],
  );
  if (!existing)
    throw conflict('this Idempotency-Key was just given back; retry', { field: 'idempotencyKey' });
  if (existing.request_hash !== hash)
    throw new AppError('UNPROCESSABLE', 'this Idempotency-Key was used with another request', {
      field: 'idempotencyKey',
    });
  if (!existing.task_id)
    throw conflict('a request with this Idempotency-Key is still being processed', {
      field: 'idempotencyKey',
    });
  return { kind: 'answered', taskId: existing.task_id };
}
