import { Migration } from '@mikro-orm/migrations';

/** The payment that funded a hired task (a Solana signature): one task per payment, ever. */
export class TasksPaymentProof extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "tasks"."task" add column "payment_tx" text null;
      create unique index "task_payment_tx_once" on "tasks"."task" ("payment_tx");
    `);
  }
}
