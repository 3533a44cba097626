import { Migration } from '@mikro-orm/migrations';

/**
 * Deposits proven by a Solana transaction (hermesx402's paid hire): source SOLANA, the base58
 * signature as the transaction, once (the same unique index as EVM transactions).
 */
export class WalletSolanaPayments extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      alter table "wallet"."deposit"
        drop constraint "deposit_source_check",
        drop constraint "deposit_tx_hash_check",
        drop constraint "deposit_check",
        add constraint "deposit_source_check" check ("source" in ('ONCHAIN', 'TEST', 'SOLANA')),
        add constraint "deposit_tx_hash_check" check (
          ("source" = 'ONCHAIN' and "tx_hash" ~ '^0x[0-9a-f]{64}$')
          or ("source" = 'SOLANA' and "tx_hash" ~ '^[1-9A-HJ-NP-Za-km-z]{64,88}$')
          or ("source" = 'TEST' and "tx_hash" is null)
        );
    `);
  }
}
