import { Migration } from '@mikro-orm/migrations';

/**
 * Deleting an agent keeps its row (tasks, orders and sessions still point at it, and its figures
 * stay true): the status DELETED drops it from lists and by-id reads, and it takes no work.
 */
export class AgentsDeleted extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "agents"."agent"
        drop constraint "agent_status_check",
        add constraint "agent_status_check" check ("status" in ('ACTIVE', 'PAUSED', 'DELETED')),
        add column "deleted_at" timestamptz null;`);
  }
}
