import { Migration } from '@mikro-orm/migrations';

/**
 * OpenAI-compatible calls passed through to a provider (embeddings, completions, …): who made
 * them, where they went and what they used and cost, so they are metered like chat turns.
 */
export class SessionsRelayCalls extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "sessions"."relay_call" (
        "id" text primary key,
        "owner_id" text not null,
        "endpoint" text not null,
        "model" text not null,
        "provider" text not null,
        "status" integer not null,
        "prompt_tokens" integer not null default 0,
        "completion_tokens" integer not null default 0,
        "price_micro_usd" bigint not null default 0,
        "latency_ms" integer not null,
        "created_at" timestamptz not null default now()
      );
      create index "relay_call_owner_created_idx" on "sessions"."relay_call" ("owner_id", "created_at" desc);
    `);
  }
}
