/**
 * Interviews in PostgreSQL (sessions.interview): each statement is one conditional write, so
 * replicas taking turns of the same interview never lose a message nor pass its bounds.
 */
import { conflict, newId, type EntityManager } from '../../../lib';
import type { UpstreamMessage } from '../chat.upstream';

/** Ironclad's bounds (api/routes/interview.rs): an hour, 200 messages; ours keeps 20 per owner. */
const TTL_SECONDS = 3600;
export const MAX_HISTORY = 200;
const MAX_PER_OWNER = 20;

export interface StoredInterview {
  id: string;
  model: string;
  status: 'ACTIVE' | 'APPLIED';
  history: UpstreamMessage[];
}

const LIVE = `"created_at" > now() - make_interval(secs => ${TTL_SECONDS})`;

/**
 * A new interview. Expired ones of the owner are dropped first, and past the owner's bound the
 * oldest; a live one of the same key is a CONFLICT.
 */
export async function startInterview(
  em: EntityManager,
  interview: { ownerId: string; key: string; model: string; history: UpstreamMessage[] },
): Promise<void> {
  await em.execute(
    `delete from "sessions"."interview" where "owner_id" = ? and (not (${LIVE}) or "id" not in
       (select "id" from "sessions"."interview" where "owner_id" = ? order by "created_at" desc limit ?))`,
    [interview.ownerId, interview.ownerId, MAX_PER_OWNER - 1],
  );
  const inserted = await em.execute<{ id: string }[]>(
    `insert into "sessions"."interview" ("id", "owner_id", "session_key", "model", "history")
     values (?, ?, ?, ?, ?::jsonb) on conflict ("owner_id", "session_key") do nothing returning "id"`,
    [newId('itv'), interview.ownerId, interview.key, interview.model, JSON.stringify(interview.history)],
  );
  if (!inserted.length) throw conflict('interview already in progress', { session_key: interview.key });
}

const SELECT = `select "id", "model", "status", "history" from "sessions"."interview"
  where "owner_id" = ? and "session_key" = ? and ${LIVE}`;

export async function findInterview(em: EntityManager, ownerId: string, key: string) {
  const [row] = await em.execute<StoredInterview[]>(SELECT, [ownerId, key]);
  return row as StoredInterview | undefined;
}

/** Like {@link findInterview}, holding the row until the transaction ends. */
export async function lockInterview(em: EntityManager, ownerId: string, key: string) {
  const [row] = await em.execute<StoredInterview[]>(`${SELECT} for update`, [ownerId, key]);
  return row as StoredInterview | undefined;
}

/** Appends messages to an active interview under its bound; the new length, or undefined when it may not. */
export async function appendTurn(
  em: EntityManager,
  id: string,
  messages: UpstreamMessage[],
): Promise<number | undefined> {
  const [row] = await em.execute<{ length: number }[]>(
    `update "sessions"."interview" set "history" = "history" || ?::jsonb, "updated_at" = now()
     where "id" = ? and "status" = 'ACTIVE' and jsonb_array_length("history") < ?
     returning jsonb_array_length("history") as "length"`,
    [JSON.stringify(messages), id, MAX_HISTORY],
  );
  return row?.length;
}

export async function markApplied(em: EntityManager, id: string): Promise<void> {
  await em.execute(
    `update "sessions"."interview" set "status" = 'APPLIED', "applied_at" = now(), "updated_at" = now()
     where "id" = ?`,
    [id],
  );
}
