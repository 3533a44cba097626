import { Migration } from '@mikro-orm/migrations';

/**
 * Paid orders (AUTX 003): one call to an agent, paid from the buyer's USD credits. `settlement`
 * says where the price is in the wallet; the reconciler looks for orders still HELD.
 */
export class AgentsOrders extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "agents"."order" (
        "id" text primary key,
        "buyer_id" text not null,
        "agent_id" text not null,
        "prompt" text not null,
        "payment_method" text not null,
        "price_minor" bigint not null check ("price_minor" >= 0),
        "asset" text not null,
        "status" text not null check ("status" in ('PROCESSING', 'COMPLETED', 'FAILED')),
        "settlement" text not null check ("settlement" in ('NONE', 'HELD', 'RELEASED', 'REFUNDED')),
        "output_text" text,
        "output_hash" text,
        "error" text,
        "latency_ms" integer,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now(),
        "completed_at" timestamptz
      );
      create index "order_buyer_idx" on "agents"."order" ("buyer_id", "id" desc);
      create index "order_held_idx" on "agents"."order" ("updated_at") where "settlement" = 'HELD';
    `);
  }
}
