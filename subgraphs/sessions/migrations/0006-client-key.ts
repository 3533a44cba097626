import { Migration } from '@mikro-orm/migrations';

/**
 * A client's own name for a conversation (Hermes Workspace's X-Hermes-Session-Id), so an
 * OpenAI-style call that names it continues that session instead of opening a new one.
 */
export class SessionsClientKey extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "sessions"."session" add column "client_key" text null;
      create unique index "session_owner_client_key_uniq" on "sessions"."session" ("owner_id", "client_key")
        where "client_key" is not null and "deleted_at" is null;
    `);
  }
}
