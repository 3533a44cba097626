import { Migration } from '@mikro-orm/migrations';

export class TasksSchedules extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "tasks"."schedule" (
        "id" text primary key,
        "owner_id" text not null,
        "name" text not null,
        "cron" text not null,
        "task_title" text not null,
        "task_description" text not null default '',
        "task_reward_minor" bigint not null default 0 check ("task_reward_minor" >= 0),
        "task_asset" text not null default 'USD',
        "enabled" boolean not null default true,
        "next_run_at" timestamptz not null,
        "last_run_at" timestamptz null,
        "created_at" timestamptz not null default now()
      );
      create index "schedule_due_idx" on "tasks"."schedule" ("next_run_at") where "enabled";
      create index "schedule_owner_id_idx" on "tasks"."schedule" ("owner_id", "id");
      create table "tasks"."schedule_run" (
        "id" text primary key,
        "schedule_id" text not null,
        "owner_id" text not null,
        "due_at" timestamptz not null,
        "ran_at" timestamptz not null,
        "status" text not null check ("status" in ('SUCCEEDED', 'FAILED')),
        "task_id" text null,
        "error" text null
      );
      create index "schedule_run_owner_id_idx" on "tasks"."schedule_run" ("owner_id", "id");`);
  }
}
