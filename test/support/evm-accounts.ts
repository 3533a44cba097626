/**
 * Local EVM accounts (viem) that sign like a user's wallet. viem's types are ES modules, so they
 * come in as types and the runtime through `require` (see subgraphs/wallet/deposits/evm.ts).
 */
import type * as Accounts from 'viem/accounts' with { 'resolution-mode': 'import' };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const accounts = require('viem/accounts') as typeof Accounts;

export const { generatePrivateKey, privateKeyToAccount } = accounts;
export type LocalAccount = ReturnType<typeof privateKeyToAccount>;

/** A fresh local account: a wallet nobody else holds. */
export const newEvmAccount = () => privateKeyToAccount(generatePrivateKey());
