import { startEvmDouble, type EvmDouble } from './support/evm-double';
import { newEvmAccount, privateKeyToAccount, type LocalAccount } from './support/evm-accounts';
import { startPayoutDouble, type PayoutDouble } from './support/payout-double';
import type { Client } from './support/platform';
import { DepositAddressChallengeDocument, LinkDepositAddressDocument } from './generated/graphql';

export const VAULT = '0x00000000000000000000000000000000000c0de1';
export const USDC = '0x833589fcd6edb6e08f4c7c32d4f71b54bda02913';
/** The wallet most tests deposit from (a fixed local key), its address in lower case. */
export const SENDER_ACCOUNT = privateKeyToAccount(`0x${'11'.repeat(32)}`);
export const SENDER = SENDER_ACCOUNT.address.toLowerCase();
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

/** Mines a confirmed USDC transfer of `value` token units to the vault (from SENDER) and answers its hash. */
export function minedDeposit(
  evm: EvmDouble,
  value: bigint,
  overrides: { to?: string; token?: string; from?: string } = {},
) {
  const hash = txHash();
  evm.mine({
    hash,
    blockNumber: evm.head - BigInt(CONFIRMATIONS) + 1n,
    transfers: [
      { token: overrides.token ?? USDC, from: overrides.from ?? SENDER, to: overrides.to ?? VAULT, value },
    ],
  });
  return hash;
}

/**
 * Links a wallet (a fresh one unless named) to the client's account as a user would: asks for a
 * challenge, signs it with the wallet's key and sends the signature. Answers the wallet.
 */
export async function linkWallet(client: Client, wallet: LocalAccount = newEvmAccount()) {
  const { depositAddressChallenge: challenge } = await client.data(DepositAddressChallengeDocument, {
    address: wallet.address,
  });
  const signature = await wallet.signMessage({ message: challenge.message });
  await client.data(LinkDepositAddressDocument, { challengeId: challenge.id, signature });
  return wallet;
}
