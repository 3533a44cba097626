import { Migration } from '@mikro-orm/migrations';

/** Where a task's locked reward is; the reconciler looks for final tasks still HELD. */
export class TasksRewardSettlement extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "tasks"."task" add column "reward_settlement" text not null default 'NONE'
        check ("reward_settlement" in ('NONE', 'HELD', 'RELEASED', 'REFUNDED'));
      create index "task_reward_held" on "tasks"."task" ("updated_at") where "reward_settlement" = 'HELD';
    `);
  }
}
