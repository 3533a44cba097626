import { autx } from './autx';
import { hermes } from './hermes';
import { runtimeDialect } from './runtime';
import { x402 } from './x402';

/** Every dialect the router serves. A new dialect is a table here and its mount in lib/config.ts. */
export const DIALECTS = [hermes, autx, x402, runtimeDialect];
