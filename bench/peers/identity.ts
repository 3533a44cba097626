import { IDENTITY_HEADER, signIdentity, type Identity } from '../../lib';

/**
 * The peers verify no credential: they forward one signed identity, as if an edge in front of them
 * had already checked it. Re-signed every minute, well inside its five-minute lifetime.
 */
export function fixedIdentity(): { header: string; value: () => string } {
  const identity = JSON.parse(process.env.BENCH_IDENTITY!) as Identity;
  const secret = process.env.INTERNAL_SECRET!;
  let token = signIdentity(identity, secret);
  setInterval(() => (token = signIdentity(identity, secret)), 60_000).unref();
  return { header: IDENTITY_HEADER, value: () => token };
}

export const benchPort = () => Number(process.env.PORT);
export const benchSupergraph = () => process.env.BENCH_SUPERGRAPH!;
