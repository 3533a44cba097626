import { Migration } from '@mikro-orm/migrations';

/** Provider keys set through the API (encrypted), each turn's sampling parameters, session deletion. */
export class SessionsProviders extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "sessions"."provider_key" (
        "provider" text primary key,
        -- AES-256-GCM under a key derived from the platform secret; never returned by the API.
        "ciphertext" text not null,
        "updated_by" text not null,
        "updated_at" timestamptz not null default now()
      );

      alter table "sessions"."turn" add column "parameters" jsonb not null default '{}';

      -- A deleted session is hidden, not erased: its turns stay metered.
      alter table "sessions"."session" add column "deleted_at" timestamptz null;
    `);
  }
}
