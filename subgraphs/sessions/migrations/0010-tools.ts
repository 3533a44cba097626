import { Migration } from '@mikro-orm/migrations';

/**
 * Tools (README "Tools: plugins and MCP"): whether each plugin is enabled, kept here so every
 * replica reads the same answer (a plugin without a row is enabled), and every tool call that ran,
 * from a chat turn (turn_id) or called directly (turn_id null), with its arguments and outcome.
 */
export class SessionsTools extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "sessions"."plugin_state" (
        "name" text primary key,
        "enabled" boolean not null,
        "updated_at" timestamptz not null default now()
      );
      create table "sessions"."tool_call" (
        "id" text primary key,
        "turn_id" text null references "sessions"."turn" ("id") on delete cascade,
        "owner_id" text not null,
        "plugin" text not null,
        "tool" text not null,
        "arguments" jsonb not null,
        "output" text null,
        "metadata" jsonb null,
        "status" text not null,
        "error" text null,
        "duration_ms" integer not null,
        "created_at" timestamptz not null default now()
      );
      create index "tool_call_turn_idx" on "sessions"."tool_call" ("turn_id", "created_at");
      create index "tool_call_owner_idx" on "sessions"."tool_call" ("owner_id", "created_at");
    `);
  }
}
