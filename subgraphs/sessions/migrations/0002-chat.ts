import { Migration } from '@mikro-orm/migrations';

/** Streaming chat: messages, turns and their stored events (for resume), feedback, metered usage. */
export class SessionsChat extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "sessions"."session"
        add column "input_tokens" integer not null default 0,
        add column "output_tokens" integer not null default 0,
        add column "cost_micro_usd" bigint not null default 0 check ("cost_micro_usd" >= 0);

      create table "sessions"."message" (
        "id" text primary key,
        "session_id" text not null references "sessions"."session" ("id"),
        "role" text not null check ("role" in ('USER', 'ASSISTANT', 'SYSTEM')),
        "content" text not null,
        "tokens" integer not null default 0,
        "complete" boolean not null default true,
        "created_at" timestamptz not null default now()
      );
      create index "message_session_id_idx" on "sessions"."message" ("session_id", "id");

      create table "sessions"."turn" (
        "id" text primary key,
        "session_id" text not null references "sessions"."session" ("id"),
        "owner_id" text not null,
        "user_message_id" text not null references "sessions"."message" ("id"),
        "assistant_message_id" text null references "sessions"."message" ("id"),
        "provider" text not null,
        "model" text not null,
        "model_reason" text not null,
        "status" text not null default 'RUNNING'
          check ("status" in ('RUNNING', 'COMPLETE', 'INTERRUPTED', 'FAILED')),
        "context" jsonb not null,
        "prompt_tokens" integer not null default 0,
        "completion_tokens" integer not null default 0,
        "cost_micro_usd" bigint not null default 0,
        "latency_ms" integer null,
        "first_token_latency_ms" integer null,
        "error_code" text null,
        "error_message" text null,
        "created_at" timestamptz not null default now(),
        "finished_at" timestamptz null
      );
      create index "turn_session_id_idx" on "sessions"."turn" ("session_id", "id");
      -- One answer at a time per session: a second send while one runs is a CONFLICT.
      create unique index "turn_one_running_idx" on "sessions"."turn" ("session_id") where "status" = 'RUNNING';

      -- Every event a turn streamed, so a reconnecting subscriber replays what it missed.
      create table "sessions"."chat_event" (
        "session_id" text not null references "sessions"."session" ("id"),
        "seq" integer not null check ("seq" > 0),
        "turn_id" text not null references "sessions"."turn" ("id"),
        "kind" text not null check ("kind" in ('STARTED', 'TOKEN', 'COMPLETED', 'ERROR')),
        "delta" text null,
        "usage" jsonb null,
        "error" jsonb null,
        "at" timestamptz not null default now(),
        primary key ("session_id", "seq")
      );

      create table "sessions"."feedback" (
        "id" text primary key,
        "turn_id" text not null unique references "sessions"."turn" ("id"),
        "session_id" text not null references "sessions"."session" ("id"),
        "owner_id" text not null,
        "grade" integer not null check ("grade" between 1 and 5),
        "comment" text null,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now()
      );
      create index "feedback_session_id_idx" on "sessions"."feedback" ("session_id", "id");

      -- Ledger-ready: the wallet charges each record once, keyed by the turn.
      create table "sessions"."usage_record" (
        "id" text primary key,
        "idempotency_key" text not null unique,
        "owner_id" text not null,
        "session_id" text not null references "sessions"."session" ("id"),
        "turn_id" text not null references "sessions"."turn" ("id"),
        "provider" text not null,
        "model" text not null,
        "prompt_tokens" integer not null check ("prompt_tokens" >= 0),
        "completion_tokens" integer not null check ("completion_tokens" >= 0),
        "estimated" boolean not null,
        "price_micro_usd" bigint not null check ("price_micro_usd" >= 0),
        "created_at" timestamptz not null default now(),
        "charged_at" timestamptz null
      );
      create index "usage_record_owner_id_idx" on "sessions"."usage_record" ("owner_id", "id");`);
  }
}
