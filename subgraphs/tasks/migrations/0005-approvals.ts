import { Migration } from '@mikro-orm/migrations';

export class TasksApprovals extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "tasks"."approval_request" (
        "id" text primary key,
        "task_id" text not null unique references "tasks"."task" ("id") on delete cascade deferrable initially deferred,
        "requested_by" text not null,
        "state" text not null default 'PENDING' check ("state" in ('PENDING', 'APPROVED', 'DENIED')),
        "decided_by" text null,
        "decided_at" timestamptz null,
        "reason" text null,
        "created_at" timestamptz not null default now()
      );
      create index "approval_request_requested_by_idx" on "tasks"."approval_request" ("requested_by", "id");
      create table "tasks"."task_event" (
        "seq" bigserial primary key,
        "task_id" text not null,
        "creator_id" text not null,
        "payload" jsonb not null,
        "at" timestamptz not null default now()
      );
      create index "task_event_creator_id_idx" on "tasks"."task_event" ("creator_id", "seq");
      create index "task_event_at_idx" on "tasks"."task_event" ("at");`);
  }
}
