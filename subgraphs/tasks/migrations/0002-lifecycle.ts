import { Migration } from '@mikro-orm/migrations';

/** The full lifecycle: funding, acceptance, delivery, disputes, expiry, and task graphs. */
export class TasksLifecycle extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "tasks"."task" drop constraint "task_status_check";
      alter table "tasks"."task" add constraint "task_status_check" check ("status" in (
        'FUNDING', 'OPEN', 'ACCEPTED', 'IN_PROGRESS', 'PENDING_VALIDATION', 'COMPLETED',
        'DISPUTED', 'RESOLVED', 'CANCELLED', 'FAILED', 'EXPIRED'));
      alter table "tasks"."task"
        add column "budget_minor" bigint null check ("budget_minor" >= 0),
        add column "required_capabilities" text[] not null default '{}',
        add column "deadline" timestamptz null,
        add column "parent_task_id" text null references "tasks"."task" ("id"),
        add column "depends_on" text[] not null default '{}',
        add column "progress" integer not null default 0 check ("progress" between 0 and 100),
        add column "result" text null,
        add column "summary" text null,
        add column "rating" integer null check ("rating" between 1 and 5),
        add column "rating_comment" text null,
        add column "dispute_reason" text null,
        add column "resolution" text null check ("resolution" in ('RELEASE_TO_AGENT', 'REFUND_CREATOR')),
        add column "resolution_note" text null,
        add column "failure_reason" text null,
        add column "funded_at" timestamptz null,
        add column "accepted_at" timestamptz null,
        add column "started_at" timestamptz null,
        add column "delivered_at" timestamptz null,
        add column "confirmed_at" timestamptz null,
        add column "disputed_at" timestamptz null,
        add column "resolved_at" timestamptz null,
        add column "cancelled_at" timestamptz null,
        add column "failed_at" timestamptz null,
        add column "expired_at" timestamptz null;
      -- Before this release a claim moved a task straight to IN_PROGRESS.
      update "tasks"."task" set "accepted_at" = "updated_at", "started_at" = "updated_at"
        where "status" = 'IN_PROGRESS';
      create index "task_creator_id_idx" on "tasks"."task" ("creator_id", "id");
      create index "task_deadline_idx" on "tasks"."task" ("deadline") where "deadline" is not null;
      create index "task_parent_task_id_idx" on "tasks"."task" ("parent_task_id");`);
  }
}
