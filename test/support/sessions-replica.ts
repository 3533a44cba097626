import pino from 'pino';
import { createPubSub, openDatabase, type MikroORM, type PubSub } from '../../lib';
import { sessions } from '../../subgraphs/sessions';
import type { TestPlatform } from './platform';

/** Another replica of the sessions subgraph, as far as its background jobs (the sweep) are concerned. */
export interface SessionsReplica {
  orm: MikroORM;
  pubsub: PubSub;
  /** A RUNNING turn an hour old, answering a new user message, as a replica that died leaves it. */
  insertAbandonedTurn(turn: {
    id: string;
    sessionId: string;
    ownerId: string;
    model?: string;
  }): Promise<void>;
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
  const execute = (text: string, params: unknown[]) => orm.em.fork().getConnection().execute(text, params);
  return {
    orm,
    pubsub,
    async insertAbandonedTurn(turn) {
      const messageId = `msg_of_${turn.id}`;
      await execute(
        `insert into "sessions"."message" ("id", "session_id", "role", "content") values (?, ?, 'USER', 'hi')`,
        [messageId, turn.sessionId],
      );
      await execute(
        `insert into "sessions"."turn" ("id", "session_id", "owner_id", "user_message_id", "provider", "model",
           "model_reason", "context", "created_at")
         values (?, ?, ?, ?, 'default', ?, 'test', '[]', now() - interval '1 hour')`,
        [turn.id, turn.sessionId, turn.ownerId, messageId, turn.model ?? 'default'],
      );
    },
    async close() {
      await pubsub.close();
      await orm.close();
    },
  };
}
