import pino from 'pino';
import { createPubSub, openDatabase, type MikroORM, type PubSub } from '../../lib';
import { sessions } from '../../subgraphs/sessions';
import { sql } from '../tasks.support';
import type { TestPlatform } from './platform';

/** Another replica of the sessions subgraph, as far as its background jobs (the sweep) are concerned. */
export interface SessionsReplica {
  orm: MikroORM;
  pubsub: PubSub;
  close(): Promise<void>;
}

export async function openSessionsReplica(t: TestPlatform): Promise<SessionsReplica> {
  const log = pino({ level: 'silent' });
  const orm = await openDatabase({
    url: t.databaseUrl,
    schema: 'sessions',
    entities: sessions.entities,
    migrations: sessions.migrations,
    poolMax: 2,
    log,
  });
  const pubsub = createPubSub({ databaseUrl: t.databaseUrl, log });
  return {
    orm,
    pubsub,
    async close() {
      await pubsub.close();
      await orm.close();
    },
  };
}

/** A RUNNING turn an hour old, answering a new user message, as a replica that died leaves it. */
export async function insertAbandonedTurn(
  t: TestPlatform,
  turn: { id: string; sessionId: string; ownerId: string; model?: string },
): Promise<void> {
  const messageId = `msg_of_${turn.id}`;
  await sql(
    t,
    `insert into "sessions"."message" ("id", "session_id", "role", "content") values ($1, $2, 'USER', 'hi')`,
    [messageId, turn.sessionId],
  );
  await sql(
    t,
    `insert into "sessions"."turn" ("id", "session_id", "owner_id", "user_message_id", "provider", "model",
       "model_reason", "context", "created_at")
     values ($1, $2, $3, $4, 'default', $5, 'test', '[]', now() - interval '1 hour')`,
    [turn.id, turn.sessionId, turn.ownerId, messageId, turn.model ?? 'default'],
  );
}
