import { Migration } from '@mikro-orm/migrations';

/**
 * Escrows: the record behind a task reward's hold. The status changes once from LOCKED (and
 * EXPIRED once to REFUNDED) under the row lock release and refund take.
 */
export class WalletEscrow extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "wallet"."escrow" (
        "id" text primary key,
        "task_id" text not null,
        "payer_id" text not null,
        "recipient_id" text not null,
        "asset" text not null references "wallet"."asset" ("code"),
        "decimals" smallint not null,
        "amount" bigint not null check ("amount" > 0),
        "status" text not null check ("status" in ('LOCKED', 'RELEASED', 'REFUNDED', 'EXPIRED')),
        "gaze_required" boolean not null default false,
        "ttl_seconds" integer not null check ("ttl_seconds" between 60 and 604800),
        "hold_id" text not null unique references "wallet"."transfer" ("id"),
        "expires_at" timestamptz not null,
        "created_at" timestamptz not null default now(),
        "settled_at" timestamptz null
      );
      create index "escrow_payer" on "wallet"."escrow" ("payer_id", "id");
      create index "escrow_recipient" on "wallet"."escrow" ("recipient_id", "id");
      create index "escrow_task" on "wallet"."escrow" ("task_id");
    `);
  }
}
