import { Migration } from '@mikro-orm/migrations';

export class SessionsInit extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "sessions"."session" (
        "id" text primary key,
        "owner_id" text not null,
        "agent_id" text null,
        "title" text not null,
        "model" text not null,
        "status" text not null default 'ACTIVE' check ("status" in ('ACTIVE', 'CLOSED')),
        "message_count" integer not null default 0,
        "started_at" timestamptz not null default now(),
        "ended_at" timestamptz null
      );
      create index "session_owner_id_idx" on "sessions"."session" ("owner_id");`);
  }
}
