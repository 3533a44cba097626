import { Migration } from '@mikro-orm/migrations';

/** Discovered agents (002's /api/runtime/discovery): peers an owner registered, with their A2A card once verified. */
export class AgentsDiscovery extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "agents"."discovered_agent" (
        "id" text primary key,
        "owner_id" text not null,
        "name" text not null,
        "url" text not null,
        "capabilities" text[] not null default '{}',
        "method" text not null check ("method" in ('MANUAL', 'WELL_KNOWN')),
        "verified" boolean not null default false,
        "card_url" text null,
        "card" jsonb null,
        "last_error" text null,
        "verified_at" timestamptz null,
        "last_seen_at" timestamptz null,
        "created_at" timestamptz not null default now(),
        unique ("owner_id", "url")
      );
    `);
  }
}
