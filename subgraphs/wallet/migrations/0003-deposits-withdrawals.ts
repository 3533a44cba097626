import { Migration } from '@mikro-orm/migrations';

/**
 * Deposits and withdrawals: the records behind the ledger transfers that bring money in and send
 * it out. A deposit's chain transaction can be claimed once (the unique index is the replay
 * protection); a withdrawal keeps its payout's state, transaction and fee.
 */
export class WalletDepositsWithdrawals extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "wallet"."deposit" (
        "id" text primary key,
        "owner_id" text not null,
        "source" text not null check ("source" in ('ONCHAIN', 'TEST')),
        "asset" text not null references "wallet"."asset" ("code"),
        "amount" bigint not null check ("amount" > 0),
        "tx_hash" text null check ("tx_hash" ~ '^0x[0-9a-f]{64}$'),
        "from_address" text null,
        "block_number" bigint null,
        "transfer_id" text not null references "wallet"."transfer" ("id"),
        "created_at" timestamptz not null default now(),
        check (("source" = 'ONCHAIN') = ("tx_hash" is not null))
      );
      create unique index "deposit_tx_hash_once" on "wallet"."deposit" ("tx_hash");
      create index "deposit_owner" on "wallet"."deposit" ("owner_id", "id");

      create table "wallet"."withdrawal" (
        "id" text primary key,
        "owner_id" text not null,
        "asset" text not null references "wallet"."asset" ("code"),
        "amount" bigint not null check ("amount" > 0),
        "fee" bigint not null default 0 check ("fee" >= 0),
        "destination" text not null,
        "status" text not null check ("status" in ('PENDING', 'COMPLETED', 'FAILED')),
        "hold_id" text not null references "wallet"."transfer" ("id"),
        "tx" text null,
        "failure_reason" text null,
        "attempts" integer not null default 1,
        "created_at" timestamptz not null default now(),
        "updated_at" timestamptz not null default now(),
        "completed_at" timestamptz null
      );
      create index "withdrawal_owner" on "wallet"."withdrawal" ("owner_id", "asset", "created_at");
      create index "withdrawal_pending" on "wallet"."withdrawal" ("updated_at") where "status" = 'PENDING';
    `);
  }
}
