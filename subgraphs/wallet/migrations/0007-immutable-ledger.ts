import { Migration } from '@mikro-orm/migrations';

/**
 * Transfers and entries are written once and never changed: the database refuses UPDATE, DELETE
 * and TRUNCATE on them, whatever the code above says. Nothing changes them legitimately: a hold's
 * open state lives in "pending_hold" (deleted when it resolves), balances in "ledger_account".
 */
export class WalletImmutableLedger extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function "wallet"."refuse_ledger_change"() returns trigger
      language plpgsql as $$
      begin
        raise exception 'ledger % rows are immutable: % refused', TG_TABLE_NAME, TG_OP
          using errcode = 'restrict_violation';
      end $$;
      create trigger "transfer_immutable" before update or delete on "wallet"."transfer"
        for each row execute function "wallet"."refuse_ledger_change"();
      create trigger "transfer_no_truncate" before truncate on "wallet"."transfer"
        for each statement execute function "wallet"."refuse_ledger_change"();
      create trigger "ledger_entry_immutable" before update or delete on "wallet"."ledger_entry"
        for each row execute function "wallet"."refuse_ledger_change"();
      create trigger "ledger_entry_no_truncate" before truncate on "wallet"."ledger_entry"
        for each statement execute function "wallet"."refuse_ledger_change"();
    `);
  }
}
