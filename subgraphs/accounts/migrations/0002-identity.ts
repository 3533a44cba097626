import { Migration } from '@mikro-orm/migrations';

export class AccountsIdentity extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "accounts"."account" add column "password_hash" text null;
      create table "accounts"."api_key" (
        "id" text primary key,
        "account_id" text not null references "accounts"."account" ("id") deferrable initially deferred,
        "name" text not null,
        "prefix" text not null,
        "key_hash" text not null unique,
        "scopes" text[] not null,
        "expires_at" timestamptz null,
        "revoked_at" timestamptz null,
        "last_used_at" timestamptz null,
        "created_at" timestamptz not null default now()
      );
      create index "api_key_account_id_idx" on "accounts"."api_key" ("account_id", "id");
      create table "accounts"."refresh_token" (
        "id" text primary key,
        "family_id" text not null,
        "account_id" text not null references "accounts"."account" ("id") deferrable initially deferred,
        "token_hash" text not null unique,
        "expires_at" timestamptz not null,
        "used_at" timestamptz null,
        "revoked_at" timestamptz null,
        "created_at" timestamptz not null default now()
      );
      create index "refresh_token_family_id_idx" on "accounts"."refresh_token" ("family_id");`);
  }
}
