/**
 * viem, for this CommonJS build. Its runtime ships a CommonJS copy, but its type declarations are
 * marked as ES modules, which TypeScript's node16 resolution refuses to `import` from CommonJS; so
 * the types come in as an import and the runtime through `require`.
 */
import type * as Viem from 'viem' with { 'resolution-mode': 'import' };

export type { Address, Hash, Hex } from 'viem' with { 'resolution-mode': 'import' };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const viem = require('viem') as typeof Viem;

export const {
  createPublicClient,
  decodeEventLog,
  http,
  isAddress,
  isAddressEqual,
  parseAbiItem,
  TransactionReceiptNotFoundError,
  verifyMessage,
} = viem;
