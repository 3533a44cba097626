import { Migration } from '@mikro-orm/migrations';

/** What a released order moved in the ledger (003's amount_paid and platform_fee): 0 until then. */
export class AgentsOrderAmounts extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "agents"."order"
        add column "amount_paid_minor" bigint not null default 0 check ("amount_paid_minor" >= 0),
        add column "platform_fee_minor" bigint not null default 0 check ("platform_fee_minor" >= 0);
    `);
  }
}
