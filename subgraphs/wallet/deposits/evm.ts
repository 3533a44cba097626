/**
 * viem, for this CommonJS build. Its runtime ships a CommonJS copy, but its type declarations are
 * marked as ES modules, which TypeScript's node16 resolution refuses to `import` from CommonJS; so
 * the types come in as an import and the runtime through `require`.
 */
import type * as Viem from 'viem' with { 'resolution-mode': 'import' };

export type { Address, Hash, Hex } from 'viem' with { 'resolution-mode': 'import' };

let loaded: typeof Viem | undefined;

/** viem, loaded on first use: it takes most of a second to load, and only on-chain checks need it. */
export const viem = (): typeof Viem =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (loaded ??= require('viem') as typeof Viem);
