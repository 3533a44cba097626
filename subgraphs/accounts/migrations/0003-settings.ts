import { Migration } from '@mikro-orm/migrations';

/** The platform settings store: one row per live setting changed from its default (lib/settings.ts). */
export class AccountsSettings extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "accounts"."setting" (
        "key" text primary key,
        "value" jsonb not null,
        "updated_by" text not null,
        "updated_at" timestamptz not null default now()
      );`);
  }
}
