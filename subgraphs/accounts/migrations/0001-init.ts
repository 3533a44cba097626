import { Migration } from '@mikro-orm/migrations';

export class AccountsInit extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "accounts"."account" (
        "id" text primary key,
        "email" text not null unique,
        "display_name" text not null,
        "role" text not null default 'USER' check ("role" in ('USER', 'ADMIN')),
        "created_at" timestamptz not null default now()
      );`);
  }
}
