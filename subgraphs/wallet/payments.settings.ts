import { loadConfig, type Config } from '../../lib';

/**
 * The wallet's payment settings, read from the environment on each use: deposits and withdrawals
 * are rare next to reads, and an operator (or a test) changing them needs no restart.
 */
export type PaymentSettings = Pick<
  Config,
  | 'EVM_RPC_URL'
  | 'CREDIT_VAULT_ADDRESS'
  | 'USDC_CONTRACT_ADDRESS'
  | 'DEPOSIT_CONFIRMATIONS'
  | 'ENABLE_TEST_CREDITS'
  | 'PAYOUT_URL'
  | 'PAYOUT_TIMEOUT_MS'
>;

export const paymentSettings = (): PaymentSettings => loadConfig();

/** USD credits are micro-dollars and USDC has 6 decimals, so one USDC unit is one credit unit. */
export const CREDITS_ASSET = 'USD';

/** 003: "on-chain USDC deposit into the CreditVault contract ($5 minimum)". */
export const MINIMUM_DEPOSIT_MINOR = 5_000_000n;

/** Test credits are for development; one call grants at most $10,000. */
export const MAXIMUM_TEST_CREDIT_MINOR = 10_000_000_000n;
