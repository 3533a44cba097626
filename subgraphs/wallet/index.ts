import { ownedEntity, type SubgraphDefinition } from '../../lib';
import { Asset } from './ledger/asset.entity';
import { Deposit } from './deposits/deposit.entity';
import { Escrow } from './escrow/escrow.entity';
import { EscrowResolver } from './escrow/escrow.resolver';
import { DepositResolver } from './deposits/deposit.resolver';
import { LedgerAccount, ownerOfAccount } from './ledger/ledger-account.entity';
import { LedgerAccountResolver } from './ledger/ledger-account.resolver';
import { LedgerEntry } from './ledger/ledger-entry.entity';
import { LedgerEntryResolver } from './ledger/ledger-entry.resolver';
import { startHoldSweeper } from './ledger/ledger.sweeper';
import { WalletInit } from './migrations/0001-init';
import { WalletLedger } from './migrations/0002-ledger';
import { WalletDepositsWithdrawals } from './migrations/0003-deposits-withdrawals';
import { WalletEscrow } from './migrations/0004-escrow';
import { WalletSolanaPayments } from './migrations/0005-solana-payments';
import { WalletSystemAccountLimits } from './migrations/0006-system-account-limits';
import { WalletImmutableLedger } from './migrations/0007-immutable-ledger';
import { WalletDepositAddresses } from './migrations/0008-deposit-addresses';
import { DepositAddressLink } from './deposits/deposit-address.entity';
import { WalletX402Payments } from './migrations/0009-x402-payments';
import { ownerOfTransfer, Transfer } from './ledger/transfer.entity';
import { TransferResolver } from './ledger/transfer.resolver';
import { WalletActivityResolver } from './ledger/wallet-activity.resolver';
import { Withdrawal } from './withdrawals/withdrawal.entity';
import { WithdrawalResolver } from './withdrawals/withdrawal.resolver';
import { startWithdrawalReconciler } from './withdrawals/withdrawal.service';

export { expireDueHolds } from './ledger/ledger.sweeper';
export * from './ledger/ledger.service';
export { SystemAccountRole } from './ledger/ledger.accounts';

export const wallet: SubgraphDefinition = {
  name: 'wallet',
  entities: [Asset, LedgerAccount, Transfer, LedgerEntry, Deposit, DepositAddressLink, Withdrawal, Escrow],
  migrations: [
    { name: '0001-init', class: WalletInit },
    { name: '0002-ledger', class: WalletLedger },
    { name: '0003-deposits-withdrawals', class: WalletDepositsWithdrawals },
    { name: '0004-escrow', class: WalletEscrow },
    { name: '0005-solana-payments', class: WalletSolanaPayments },
    { name: '0006-system-account-limits', class: WalletSystemAccountLimits },
    { name: '0007-immutable-ledger', class: WalletImmutableLedger },
    { name: '0008-deposit-addresses', class: WalletDepositAddresses },
    { name: '0009-x402-payments', class: WalletX402Payments },
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
