import { Migration } from '@mikro-orm/migrations';

/**
 * What a turn holds in the wallet and how that hold ended, so the reconciler can finish a
 * settlement a stopped process left half done (README "Billing").
 */
export class SessionsBilling extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "sessions"."turn"
        add column "settlement" text not null default 'UNBILLED',
        add column "hold_id" text null,
        add column "held_micro_usd" bigint null,
        add column "charged_micro_usd" bigint null,
        add column "call_fee_micro_usd" bigint not null default 0,
        add column "settled_at" timestamptz null;
      create index "turn_unsettled_idx" on "sessions"."turn" ("finished_at") where "settlement" = 'HELD';
    `);
  }
}
