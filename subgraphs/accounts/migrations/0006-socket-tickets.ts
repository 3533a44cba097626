import { Migration } from '@mikro-orm/migrations';

/** WebSocket tickets: hashed, expiring in seconds, deleted when redeemed. */
export class AccountsSocketTickets extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "accounts"."socket_ticket" (
        "id" varchar(255) not null primary key,
        "account_id" varchar(255) not null,
        "api_key_id" varchar(255) null,
        "expires_at" timestamptz not null,
        "created_at" timestamptz not null default now());`);
    this.addSql(
      `create index "socket_ticket_expires_at_index" on "accounts"."socket_ticket" ("expires_at");`,
    );
  }
}
