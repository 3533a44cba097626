import { Migration } from '@mikro-orm/migrations';

/**
 * EVM addresses bound to accounts: an on-chain deposit is credited only to the account that proved
 * (by signing a challenge) that it controls the sender. An address belongs to one account. A
 * challenge is used once, before it expires (the conditional UPDATE that consumes it).
 */
export class WalletDepositAddresses extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "wallet"."deposit_address" (
        "id" text primary key,
        "address" text not null unique check ("address" ~ '^0x[0-9a-f]{40}$'),
        "owner_id" text not null,
        "linked_at" timestamptz not null default now()
      );
      create index "deposit_address_owner" on "wallet"."deposit_address" ("owner_id", "linked_at");

      create table "wallet"."address_challenge" (
        "id" text primary key,
        "owner_id" text not null,
        "address" text not null check ("address" ~ '^0x[0-9a-f]{40}$'),
        "message" text not null,
        "expires_at" timestamptz not null,
        "used_at" timestamptz null,
        "created_at" timestamptz not null default now()
      );
      create index "address_challenge_owner" on "wallet"."address_challenge" ("owner_id", "created_at");
    `);
  }
}
