import { Migration } from '@mikro-orm/migrations';

/**
 * Every documented field of a marketplace listing, and the derived figures kept on the row so a
 * list sorts and filters by them in one statement. `rating` and `success_rate` are generated from
 * the counters, so they can never disagree with them.
 */
export class AgentsMarketplace extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "agents"."agent"
        add column "category" text,
        add column "tags" text[] not null default '{}',
        add column "endpoint_url" text,
        add column "wallet" text,
        add column "auth_tier" text not null default 'jwt_default',
        add column "manifest" jsonb,
        add column "max_concurrent" integer check ("max_concurrent" > 0),
        add column "created_with_key_id" text,
        add column "updated_at" timestamptz not null default now(),
        add column "rating_sum" bigint not null default 0 check ("rating_sum" >= 0),
        add column "rating_count" integer not null default 0 check ("rating_count" >= 0),
        add column "tasks_completed" integer not null default 0 check ("tasks_completed" >= 0),
        add column "tasks_failed" integer not null default 0 check ("tasks_failed" >= 0),
        add column "total_requests" bigint not null default 0 check ("total_requests" >= 0),
        add column "total_revenue_minor" bigint not null default 0 check ("total_revenue_minor" >= 0),
        add column "rating" numeric(3, 2) generated always as (
          case when "rating_count" > 0 then round("rating_sum"::numeric / "rating_count", 2) end) stored,
        add column "success_rate" numeric(5, 2) generated always as (
          case when "tasks_completed" + "tasks_failed" > 0
            then round(100.0 * "tasks_completed" / ("tasks_completed" + "tasks_failed"), 2) end) stored;
      create index "agent_tags_idx" on "agents"."agent" using gin ("tags");
      create index "agent_category_idx" on "agents"."agent" (lower("category"));
      create index "agent_asset_status_idx" on "agents"."agent" ("asset", "status");

      -- One row per task outcome applied to an agent's figures: a repeated report changes nothing.
      create table "agents"."agent_task_outcome" (
        "task_id" text not null,
        "outcome" text not null check ("outcome" in ('REQUESTED', 'COMPLETED', 'FAILED')),
        "agent_id" text not null,
        "rating" integer check ("rating" between 1 and 5),
        "applied_at" timestamptz not null default now(),
        primary key ("task_id", "outcome")
      );`);
  }
}
