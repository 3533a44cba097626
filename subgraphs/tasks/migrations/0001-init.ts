import { Migration } from '@mikro-orm/migrations';

export class TasksInit extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "tasks"."task" (
        "id" text primary key,
        "title" text not null,
        "description" text not null default '',
        "status" text not null default 'OPEN'
          check ("status" in ('OPEN', 'IN_PROGRESS', 'PENDING_VALIDATION', 'COMPLETED', 'FAILED', 'CANCELLED')),
        "reward_minor" bigint not null default 0 check ("reward_minor" >= 0),
        "asset" text not null default 'USD',
        "creator_id" text not null,
        "agent_id" text null,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now()
      );
      create index "task_status_idx" on "tasks"."task" ("status", "id");
      create index "task_agent_id_idx" on "tasks"."task" ("agent_id");`);
  }
}
