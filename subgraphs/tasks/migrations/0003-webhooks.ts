import { Migration } from '@mikro-orm/migrations';

/** Webhook endpoints and their delivery log, which is also the job queue the worker polls. */
export class TasksWebhooks extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "tasks"."webhook_endpoint" (
        "id" text primary key,
        "owner_id" text not null,
        "url" text not null,
        "events" text[] not null,
        "description" text null,
        "secret" text not null,
        "status" text not null default 'ACTIVE' check ("status" in ('ACTIVE', 'DISABLED')),
        "disabled_reason" text null,
        "created_at" timestamptz not null);
      create index "webhook_endpoint_owner_id_idx" on "tasks"."webhook_endpoint" ("owner_id", "id");
      create table "tasks"."webhook_delivery" (
        "id" text primary key,
        "endpoint_id" text not null references "tasks"."webhook_endpoint" ("id") on delete cascade,
        "owner_id" text not null,
        "event_type" text not null,
        "payload" text not null,
        "state" text not null default 'PENDING' check ("state" in ('PENDING', 'SUCCEEDED', 'FAILED')),
        "attempts" integer not null default 0,
        "next_attempt_at" timestamptz null,
        "last_status_code" integer null,
        "last_error" text null,
        "created_at" timestamptz not null,
        "updated_at" timestamptz not null,
        "delivered_at" timestamptz null,
        -- Orders deliveries to one endpoint by creation, even those created in the same millisecond.
        "seq" bigserial not null);
      create index "webhook_delivery_endpoint_id_idx" on "tasks"."webhook_delivery" ("endpoint_id", "id");
      create index "webhook_delivery_owner_id_idx" on "tasks"."webhook_delivery" ("owner_id", "id");
      -- What the worker scans: only deliveries still waiting.
      create index "webhook_delivery_due_idx" on "tasks"."webhook_delivery" ("next_attempt_at")
        where "state" = 'PENDING';`);
  }
}
