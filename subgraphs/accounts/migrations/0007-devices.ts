import { Migration } from '@mikro-orm/migrations';

/**
 * Paired devices (002's /api/runtime/devices): pairing codes kept only as hashes, and devices that
 * presented one with their Ed25519 key, pending until they sign the server's challenge.
 */
export class AccountsDevices extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "accounts"."device_pairing_code" (
        "id" text primary key,
        "owner_id" text not null,
        "expires_at" timestamptz not null,
        "created_at" timestamptz not null default now());`);
    this.addSql(
      `create index "device_pairing_code_expires_at_index" on "accounts"."device_pairing_code" ("expires_at");`,
    );
    this.addSql(`
      create table "accounts"."device" (
        "id" text primary key,
        "owner_id" text not null,
        "name" text not null,
        "public_key_hex" text not null,
        "state" text not null check ("state" in ('PENDING', 'VERIFIED')),
        "challenge" text null,
        "challenge_expires_at" timestamptz null,
        "paired_at" timestamptz null,
        "last_seen_at" timestamptz null,
        "created_at" timestamptz not null default now());`);
    this.addSql(`create index "device_owner_id_index" on "accounts"."device" ("owner_id", "id");`);
  }
}
