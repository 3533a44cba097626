import { Migration } from '@mikro-orm/migrations';

/** Clients that name their workers freely (hermes' agent_name) keep that name beside the agent link. */
export class TasksWorkerNames extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "tasks"."task" add column "agent_name" text null;`);
  }
}
