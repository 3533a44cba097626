import { startEvmDouble, type EvmDouble } from './support/evm-double';
import { startPayoutDouble, type PayoutDouble } from './support/payout-double';

export const VAULT = '0x00000000000000000000000000000000000c0de1';
export const USDC = '0x833589fcd6edb6e08f4c7c32d4f71b54bda02913';
export const SENDER = '0x1111111111111111111111111111111111111111';
export const CONFIRMATIONS = 3;

let hashes = 0;
/** A fresh transaction hash. */
export const txHash = () => `0x${(++hashes).toString(16).padStart(8, '0')}${'ab'.repeat(28)}`;

/**
 * The EVM node and the payout service doubles, with the wallet configured to use them (the
 * wallet reads these settings on each request, so a test may change them).
 */
export async function startPaymentDoubles(): Promise<{ evm: EvmDouble; payouts: PayoutDouble }> {
  const [evm, payouts] = await Promise.all([startEvmDouble(), startPayoutDouble({ feeMinor: 5000n })]);
  Object.assign(process.env, {
    EVM_RPC_URL: evm.url,
    CREDIT_VAULT_ADDRESS: VAULT,
    USDC_CONTRACT_ADDRESS: USDC,
    DEPOSIT_CONFIRMATIONS: String(CONFIRMATIONS),
    PAYOUT_URL: payouts.url,
    ENABLE_TEST_CREDITS: 'true',
  });
  return { evm, payouts };
}

/** Mines a confirmed USDC transfer of `value` token units to the vault and answers its hash. */
export function minedDeposit(evm: EvmDouble, value: bigint, overrides: { to?: string; token?: string } = {}) {
  const hash = txHash();
  evm.mine({
    hash,
    blockNumber: evm.head - BigInt(CONFIRMATIONS) + 1n,
    transfers: [{ token: overrides.token ?? USDC, from: SENDER, to: overrides.to ?? VAULT, value }],
  });
  return hash;
}
