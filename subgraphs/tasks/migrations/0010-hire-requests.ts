import { Migration } from '@mikro-orm/migrations';

/**
 * A paid hire's `Idempotency-Key`, per caller: the request it named (a digest of the body) and the
 * task it created, null while the paid attempt is under way. The primary key is the uniqueness.
 */
export class TasksHireRequests extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table "tasks"."hire_request" (
        "creator_id" text not null,
        "key" text not null check (length("key") between 1 and 255),
        "request_hash" text not null,
        "task_id" text null,
        "created_at" timestamptz not null,
        primary key ("creator_id", "key")
      );
    `);
  }
}
