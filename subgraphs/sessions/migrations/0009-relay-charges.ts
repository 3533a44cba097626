import { Migration } from '@mikro-orm/migrations';

/**
 * Relay calls paid from credits (BILLING=on): what each call's hold posted, so they count in the
 * caller's charged totals like chat turns, and which ones streamed.
 */
export class SessionsRelayCharges extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "sessions"."relay_call"
        add column "charged_micro_usd" bigint not null default 0,
        add column "streamed" boolean not null default false;
    `);
  }
}
