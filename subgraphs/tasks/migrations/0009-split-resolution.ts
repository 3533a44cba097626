import { Migration } from '@mikro-orm/migrations';

/** A dispute may be resolved by splitting the reward: the agent's share in basis points. */
export class TasksSplitResolution extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "tasks"."task" drop constraint if exists "task_resolution_check";
      alter table "tasks"."task" add constraint "task_resolution_check"
        check ("resolution" in ('RELEASE_TO_AGENT', 'REFUND_CREATOR', 'SPLIT'));
      alter table "tasks"."task" add column "resolution_agent_share_bps" integer null
        check ("resolution_agent_share_bps" between 0 and 10000);
      alter table "tasks"."task" drop constraint if exists "task_reward_settlement_check";
      alter table "tasks"."task" add constraint "task_reward_settlement_check"
        check ("reward_settlement" in ('NONE', 'HELD', 'RELEASED', 'REFUNDED', 'SPLIT'));
    `);
  }
}
