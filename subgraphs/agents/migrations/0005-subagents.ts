import { Migration } from '@mikro-orm/migrations';

/** Sub-agent definitions (002's runtime views): named per owner, optionally under a listed agent. */
export class AgentsSubagents extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "agents"."subagent" (
        "id" text primary key,
        "owner_id" text not null,
        "agent_id" text references "agents"."agent" ("id") on delete set null,
        "name" text not null,
        "display_name" text not null,
        "description" text not null default '',
        "model" text not null,
        "fallback_models" text[] not null default '{}',
        "skills" text[] not null default '{}',
        "enabled" boolean not null default true,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now(),
        unique ("owner_id", "name")
      );
    `);
  }
}
