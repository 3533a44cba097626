import type { SubgraphContext } from './subgraph';

const GAZE_ATTESTATION = `query ($accountId: ID!) { gazeAttestationOf(accountId: $accountId) { id status } }`;

/**
 * Whether a verified, unexpired gaze attestation of the caller vouches for what it does (a
 * gaze-gated escrow release, a gaze-flagged task claim): asked of the accounts subgraph, which owns
 * attestations, under the asking subgraph's service identity. An `attestationId` the client names
 * must be that attestation.
 */
export async function gazeVerified(
  ctx: SubgraphContext,
  attestationId: string | null = null,
): Promise<boolean> {
  const { gazeAttestationOf: attestation } = await ctx.peers.request<{
    gazeAttestationOf: { id: string | null; status: string };
  }>('accounts', GAZE_ATTESTATION, { accountId: ctx.me().accountId }, { requestId: ctx.requestId });
  return attestation.status === 'VERIFIED' && (attestationId === null || attestationId === attestation.id);
}
