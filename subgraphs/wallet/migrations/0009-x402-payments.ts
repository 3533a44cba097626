import { Migration } from '@mikro-orm/migrations';

/**
 * Deposits paid over x402 v2 (a USDC authorization a facilitator settled): source X402, the settled
 * EVM transaction as `tx_hash` (unique like the others), and the payment's id as the ledger
 * transfer, looked up before the facilitator is asked again.
 */
export class WalletX402Payments extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "wallet"."deposit"
        drop constraint "deposit_source_check",
        drop constraint "deposit_tx_hash_check",
        add constraint "deposit_source_check" check ("source" in ('ONCHAIN', 'TEST', 'SOLANA', 'X402')),
        add constraint "deposit_tx_hash_check" check (
          ("source" in ('ONCHAIN', 'X402') and "tx_hash" ~ '^0x[0-9a-f]{64}$')
          or ("source" = 'SOLANA' and "tx_hash" ~ '^[1-9A-HJ-NP-Za-km-z]{64,88}$')
          or ("source" = 'TEST' and "tx_hash" is null)
        );
      create unique index "deposit_transfer_once" on "wallet"."deposit" ("transfer_id");
    `);
  }
}
