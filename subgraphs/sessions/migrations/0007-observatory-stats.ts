import { Migration } from '@mikro-orm/migrations';

/**
 * The observatory's statistics (efficiency per model, hourly series, recommendations) aggregate
 * one account's turns of a bounded window; this index keeps that a range read, not a table scan.
 */
export class SessionsObservatoryStats extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create index "turn_owner_created_idx" on "sessions"."turn" ("owner_id", "created_at");
    `);
  }
}
