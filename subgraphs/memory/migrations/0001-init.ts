import { Migration } from '@mikro-orm/migrations';

export class MemoryInit extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "memory"."memory_entry" (
        "id" text primary key,
        "agent_id" text not null,
        "tier" text not null default 'EPISODIC' check ("tier" in ('WORKING', 'EPISODIC', 'SEMANTIC')),
        "category" text not null default 'general',
        "content" text not null,
        "importance" double precision not null default 0.5 check ("importance" between 0 and 1),
        "created_at" timestamptz not null default now()
      );
      create index "memory_entry_agent_id_idx" on "memory"."memory_entry" ("agent_id", "id");`);
  }
}
