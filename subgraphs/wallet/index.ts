import { ownedEntity, type SubgraphDefinition } from '../../lib';
import { Asset } from './asset.entity';
import { Deposit } from './deposit.entity';
import { Escrow } from './escrow.entity';
import { EscrowResolver } from './escrow.resolver';
import { DepositResolver } from './deposit.resolver';
import { LedgerAccount, ownerOfAccount } from './ledger-account.entity';
import { LedgerAccountResolver } from './ledger-account.resolver';
import { LedgerEntry } from './ledger-entry.entity';
import { LedgerEntryResolver } from './ledger-entry.resolver';
import { startHoldSweeper } from './ledger.sweeper';
import { WalletInit } from './migrations/0001-init';
import { WalletLedger } from './migrations/0002-ledger';
import { WalletDepositsWithdrawals } from './migrations/0003-deposits-withdrawals';
import { WalletEscrow } from './migrations/0004-escrow';
import { WalletSolanaPayments } from './migrations/0005-solana-payments';
import { ownerOfTransfer, Transfer } from './transfer.entity';
import { TransferResolver } from './transfer.resolver';
import { WalletActivityResolver } from './wallet-activity.resolver';
import { Withdrawal } from './withdrawal.entity';
import { WithdrawalResolver } from './withdrawal.resolver';
import { startWithdrawalReconciler } from './withdrawal.service';

export { expireDueHolds } from './ledger.sweeper';
export * from './ledger.service';
export { SystemAccountRole } from './ledger.accounts';

export const wallet: SubgraphDefinition = {
  name: 'wallet',
  entities: [Asset, LedgerAccount, Transfer, LedgerEntry, Deposit, Withdrawal, Escrow],
  migrations: [
    { name: '0001-init', class: WalletInit },
    { name: '0002-ledger', class: WalletLedger },
    { name: '0003-deposits-withdrawals', class: WalletDepositsWithdrawals },
    { name: '0004-escrow', class: WalletEscrow },
    { name: '0005-solana-payments', class: WalletSolanaPayments },
  ],
  resolvers: [
    LedgerAccountResolver,
    TransferResolver,
    LedgerEntryResolver,
    DepositResolver,
    WithdrawalResolver,
    WalletActivityResolver,
    EscrowResolver,
  ],
  entityTypes: {
    LedgerAccount: ownedEntity(LedgerAccount, ownerOfAccount),
    Transfer: ownedEntity(Transfer, ownerOfTransfer),
  },
  background: async (deps) => {
    const jobs = [await startHoldSweeper(deps), startWithdrawalReconciler(deps)];
    return { stop: async () => void (await Promise.all(jobs.map((job) => job.stop()))) };
  },
};
