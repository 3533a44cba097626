import { Migration } from '@mikro-orm/migrations';

export class AgentsInit extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "agents"."agent" (
        "id" text primary key,
        "name" text not null,
        "ticker" text not null unique,
        "description" text not null default '',
        "owner_id" text not null,
        "price_minor" bigint not null default 0 check ("price_minor" >= 0),
        "asset" text not null default 'USD',
        "status" text not null default 'ACTIVE' check ("status" in ('ACTIVE', 'PAUSED')),
        "created_at" timestamptz not null default now()
      );
      create index "agent_owner_id_idx" on "agents"."agent" ("owner_id");`);
  }
}
