import { Migration } from '@mikro-orm/migrations';

/**
 * Escrow holding, platform revenue and fees only pay out what they hold (debits within credits,
 * flag 1); only the clearing accounts, which mirror money outside the ledger, may go negative.
 * Code opens new system accounts the same way (ledger.accounts.ts `accountFlagsOf`).
 */
export class WalletSystemAccountLimits extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      do $$ begin
        if exists (select 1 from "wallet"."ledger_account"
                    where "owner_id" in ('system:ESCROW', 'system:PLATFORM_REVENUE', 'system:FEES')
                      and "debits_posted" + "debits_pending" > "credits_posted") then
          raise exception 'a system account (ESCROW, PLATFORM_REVENUE or FEES) is below zero; move money back into it before this migration';
        end if;
      end $$;
      update "wallet"."ledger_account" set "flags" = "flags" | 1
        where "owner_id" in ('system:ESCROW', 'system:PLATFORM_REVENUE', 'system:FEES');
    `);
  }
}
