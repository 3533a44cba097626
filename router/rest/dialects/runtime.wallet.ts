/**
 * Wallet and money statistics (002): balances, the deposit address, cost and transaction history.
 */
import {
  WalletActivityListDocument,
  WalletDepositAddressDocument,
  WalletOverviewDocument,
  type WalletOverviewQuery,
} from '../generated/graphql';
import { fixed, minorToNumber } from '../mapping';
import { route } from '../types';
import { activityAmount, activityType, movementAmount, movementStatus } from '../wallet-shapes';

/** A balance as 002 shows it: a JSON number of the asset; an account not opened yet holds 0. */
const balanceOf = (balances: WalletOverviewQuery['walletBalances'], asset: string) => {
  const found = balances.find((b) => b.asset === asset);
  return found ? minorToNumber(found.availableMinor, found.decimals) : 0;
};

export const runtimeWalletRoutes = [
  route({
    method: 'GET',
    path: '/api/wallet/balance',
    summary: 'USDC + credit balance',
    operation: WalletOverviewDocument,
    // Credits are the USD balance; USDC its own asset. An account not opened yet holds 0.
    // Ironclad's `balance` (USDC, a string of 2 decimals) and `currency` (operator_tools.rs
    // wallet_balance); the address is the credit vault's (null when deposits are off).
    shape: ({ walletBalances, depositAddress }) => ({
      balance: balanceOf(walletBalances, 'USDC').toFixed(2),
      currency: 'USDC',
      address: depositAddress.address,
      usdc: balanceOf(walletBalances, 'USDC'),
      credits: balanceOf(walletBalances, 'USD'),
    }),
  }),
  route({
    method: 'GET',
    path: '/api/wallet/address',
    summary: 'Wallet address: the credit vault to send USDC to (then claim the transaction)',
    operation: WalletDepositAddressDocument,
    shape: ({ depositAddress: d }) => ({
      address: d.address,
      asset: d.asset,
      token_address: d.tokenAddress,
      min_deposit: minorToNumber(d.minimumMinor, 6),
      confirmations: d.confirmations,
      enabled: d.enabled,
    }),
  }),
  route({
    method: 'GET',
    path: '/api/stats/costs',
    summary: 'Inference cost history: the charges of the latest 100 credit movements',
    operation: WalletActivityListDocument,
    variables: { asset: fixed('USD'), first: fixed(100) },
    shape: ({ walletActivity }) => {
      const charges = walletActivity.nodes.filter((e) => e.category === 'CHARGE' && e.kind !== 'PENDING');
      const costs = charges.map((e) => ({
        id: e.id,
        cost_usd: -minorToNumber(activityAmount(e), 6),
        description: e.memo,
        created_at: e.createdAt,
      }));
      const totalMinor = charges.reduce((sum, e) => sum - BigInt(activityAmount(e)), 0n);
      return { costs, total_usd: minorToNumber(totalMinor.toString(), 6), count: costs.length };
    },
  }),
  route({
    method: 'GET',
    path: '/api/stats/transactions',
    summary:
      'Financial transaction history in every asset, newest first; each movement once, in its final state',
    operation: WalletActivityListDocument,
    variables: { movements: fixed(true) },
    paged: { connection: (d) => d.walletActivity, defaultLimit: 50 },
    shape: ({ walletActivity }) => ({
      transactions: walletActivity.nodes.map((e) => ({
        id: e.id,
        type: activityType(e),
        status: movementStatus(e),
        asset: e.asset,
        amount: minorToNumber(movementAmount(e), e.decimals),
        reference: e.reference,
        description: e.memo,
        created_at: e.createdAt,
      })),
      total: walletActivity.totalCount,
    }),
  }),
];
