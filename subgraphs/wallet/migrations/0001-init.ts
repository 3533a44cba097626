import { Migration } from '@mikro-orm/migrations';

export class WalletInit extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "wallet"."ledger_account" (
        "id" text primary key,
        "owner_id" text not null,
        "asset" text not null,
        "balance_minor" bigint not null default 0,
        "created_at" timestamptz not null default now(),
        unique ("owner_id", "asset")
      );`);
  }
}
