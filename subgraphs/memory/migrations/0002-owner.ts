import { Migration } from '@mikro-orm/migrations';

/** Memory becomes private to the account that stored it. */
export class MemoryOwner extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "memory"."memory_entry" add column "owner_id" text not null default '';
      alter table "memory"."memory_entry" alter column "owner_id" drop default;
      create index "memory_entry_owner_id_idx" on "memory"."memory_entry" ("owner_id", "id");`);
  }
}
