import { Migration } from '@mikro-orm/migrations';

/**
 * Setup interviews (002's /api/interview/*): the conversation so far, so that any replica can take
 * the next turn. A key names an interview within its owner's; applied ones stay until they expire.
 */
export class SessionsInterview extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "sessions"."interview" (
        "id" text primary key,
        "owner_id" text not null,
        "session_key" text not null,
        "model" text not null,
        "status" text not null default 'ACTIVE' check ("status" in ('ACTIVE', 'APPLIED')),
        "history" jsonb not null,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now(),
        "applied_at" timestamptz null,
        unique ("owner_id", "session_key")
      );
      create index "interview_owner_created_idx" on "sessions"."interview" ("owner_id", "created_at");
    `);
  }
}
