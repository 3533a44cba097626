/**
 * 000's gaze attestation routes (OPTX): gaze samples in, their history, the CSTB attestation
 * they build (222 cs of gaze in one session verify it until its TTL), and the session check that
 * reads the access tier from it. Rows of the hermes dialect:
 * errors `{detail}`, 422 for a value outside 0..1. Each account sees only its own samples.
 */
import {
  AttestationStatusDocument,
  GazeHistoryDocument,
  GazeStoreDocument,
  VerifySessionDocument,
  type GazeAttestationFieldsFragment,
  type GazeSampleFieldsFragment,
  type VerifySessionQuery,
} from '../generated/graphql';
import { fromBody, lower, minorToNumber, numberBetween, required } from '../mapping';
import { route } from '../types';

const sample = (s: GazeSampleFieldsFragment) => ({
  id: s.id,
  session_id: s.attestationId,
  gaze_x: s.gazeX,
  gaze_y: s.gazeY,
  cog_value: s.cogValue,
  emo_value: s.emoValue,
  env_value: s.envValue,
  confidence: s.confidence,
  counted_cs: s.countedCs,
  created_at: s.createdAt,
});

const attestation = (a: GazeAttestationFieldsFragment) => ({
  attestation_id: a.id,
  status: lower(a.status),
  progress_cs: a.progressCs,
  required_cs: a.requiredCs,
  // CSTB progress as a fraction, 1 once verified.
  progress: Math.min(1, a.progressCs / a.requiredCs),
  sample_count: a.sampleCount,
  verified_at: a.verifiedAt,
  expires_at: a.expiresAt,
});

/**
 * The platform sells access per use from prepaid credits, not by plan: a subscription is active
 * while the wallet holds a spendable balance. The tier grows with what the account has proven:
 * admin, then a verified gaze attestation (what gaze-gated releases and claims need), then credits.
 */
const accessOf = ({ me, attestationStatus: a, walletBalances }: VerifySessionQuery) => {
  const funded = walletBalances.filter((b) => BigInt(b.availableMinor) > 0n);
  const attested = a.status === 'VERIFIED';
  const tier = me.role === 'ADMIN' ? 'admin' : attested ? 'attested' : funded.length ? 'paid' : 'free';
  return {
    valid: true,
    user_id: me.id,
    display_name: me.displayName,
    role: lower(me.role),
    email_verified: me.emailVerified ?? false,
    access_tier: tier,
    gaze_verified: attested,
    subscription: {
      active: funded.length > 0,
      kind: 'prepaid_credits',
      balances: Object.fromEntries(funded.map((b) => [b.asset, minorToNumber(b.availableMinor, b.decimals)])),
    },
    attestation: attestation(a),
  };
};

const unit = (name: string, what: string) => required(fromBody(name, numberBetween(0, 1), `${what}, 0 to 1`));

export const gazeRoutes = [
  route({
    method: 'POST',
    path: '/api/gaze/store',
    summary: 'Submit gaze tensor data for attestation (every value 0 to 1)',
    operation: GazeStoreDocument,
    variables: {
      'input.gazeX': unit('gaze_x', 'horizontal gaze position on the screen'),
      'input.gazeY': unit('gaze_y', 'vertical gaze position on the screen'),
      'input.cogValue': unit('cog_value', 'cognitive tensor value'),
      'input.emoValue': unit('emo_value', 'emotional tensor value'),
      'input.envValue': unit('env_value', 'environmental tensor value'),
      'input.confidence': unit('confidence', "the tracker's confidence"),
    },
    shape: ({ storeGazeSample: s }) => ({
      stored: true,
      sample: sample(s.sample),
      attestation: attestation(s.attestation),
    }),
  }),
  route({
    method: 'GET',
    path: '/api/gaze/history',
    summary: 'Retrieve your gaze samples, newest first',
    operation: GazeHistoryDocument,
    paged: { connection: (d) => d.gazeHistory },
    shape: ({ gazeHistory }, { page }) => ({
      samples: gazeHistory.nodes.map(sample),
      total: gazeHistory.totalCount,
      ...page,
    }),
  }),
  route({
    method: 'GET',
    path: '/api/attestation/status',
    summary: 'Check CSTB attestation progress: pending, verified (222 cs of gaze in one session) or expired',
    operation: AttestationStatusDocument,
    shape: ({ attestationStatus }) => attestation(attestationStatus),
  }),
  route({
    method: 'POST',
    path: '/api/verify-session',
    summary:
      'Verify your session: who you are, your access tier (admin, attested, paid or free) and your subscription (prepaid credits)',
    operation: VerifySessionDocument,
    shape: accessOf,
  }),
];
