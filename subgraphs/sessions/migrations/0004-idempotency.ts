import { Migration } from '@mikro-orm/migrations';

/** A message sent again with the same idempotency key is the same turn, not a second one. */
export class SessionsIdempotency extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "sessions"."turn" add column "idempotency_key" text null;
      create unique index "turn_idempotency_key_idx" on "sessions"."turn" ("owner_id", "idempotency_key")
        where "idempotency_key" is not null;
    `);
  }
}
