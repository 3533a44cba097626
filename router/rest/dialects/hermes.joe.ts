/**
 * 000's JOE agent socket (`/ws/joe`, hermes dialect). The client authenticates in its first frame
 * (`{"type":"auth","token":…}`), then sends `{"type":"chat", user, content}` and is answered
 * `{content, tensor, cstb_score}` from a session of its own; operators (admins) may also ask
 * `wallet_status`, `wallet_metadata`, `x402_policy` and `bridge_status`, which a plain user is
 * refused (`forbidden`). Errors are `{"type":"error", code, message}`; the socket stays open.
 *
 * The tensor is read from the caller's gaze, not guessed from text: the confidence-weighted mean of
 * the COG, EMO and ENV values of the samples in its current gaze session, named by the largest.
 * Without gaze samples there is nothing to classify, and the tensor is null. The CSTB score is the
 * attestation's progress (gaze time over the 222 cs it needs, 1 once verified, 0 once expired).
 */
import { loadConfig } from '../../../lib';
import { RestError } from '../errors';
import {
  A2aAgentCardDocument,
  AttestationStatusDocument,
  ChatCompleteDocument,
  ChatStreamDocument,
  JoeCallerDocument,
  JoeGazeDocument,
  SessionCloseDocument,
  SessionStartDocument,
  WalletOverviewDocument,
  type GazeAttestationFieldsFragment,
  type GazeSampleFieldsFragment,
} from '../generated/graphql';
import { lower, minorToNumber } from '../mapping';
import { socket, type Frame } from '../types';
import { failedTurn } from '../chat-shapes';
import { cardV1 } from './runtime.a2a';

/** The most recent gaze samples an answer's tensor is read from. */
const TENSOR_SAMPLES = 50;

const round = (n: number) => Math.round(n * 1000) / 1000;

/** The confidence-weighted COG/EMO/ENV means of the newest gaze session's samples. */
export function gazeTensor(samples: GazeSampleFieldsFragment[]) {
  const session = samples[0]?.attestationId;
  const current = samples.filter((s) => s.attestationId === session);
  const weight = current.reduce((sum, s) => sum + s.confidence, 0);
  if (!current.length || weight === 0) return { tensor: null, tensor_values: null, tensor_source: 'none' };
  const mean = (value: (s: GazeSampleFieldsFragment) => number) =>
    round(current.reduce((sum, s) => sum + value(s) * s.confidence, 0) / weight);
  const values = { cog: mean((s) => s.cogValue), emo: mean((s) => s.emoValue), env: mean((s) => s.envValue) };
  const [dominant] = Object.entries(values).sort(([, a], [, b]) => b - a)[0];
  return { tensor: dominant.toUpperCase(), tensor_values: values, tensor_source: 'gaze' };
}

export const cstbScore = (a: GazeAttestationFieldsFragment) =>
  a.status === 'EXPIRED' ? 0 : round(Math.min(1, a.progressCs / a.requiredCs));

const text = (frame: Frame, name: string) => {
  const value = frame[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new RestError('BAD_USER_INPUT', `${name} must be a string`);
  return value;
};

interface JoeState {
  sessionId: string;
  admin: boolean;
}

const operatorOnly = (state: JoeState, type: string) => {
  if (!state.admin) throw new RestError('FORBIDDEN', `${type} is for operators (admins) only`);
};

export const joeSocket = socket({
  path: '/ws/joe',
  summary:
    'The JOE agent: send {"type":"auth","token":…} first, then {"type":"chat","user","content"} (answered {content, tensor, cstb_score}); admins also wallet_status, wallet_metadata, x402_policy, bridge_status',
  greeting: { type: 'connected', agent: 'JOE', session_id: 'ses_…', role: 'user' },
  // Answers are sent whole (000's format), so the chat stream is never opened; it names what a
  // message starts for the docs.
  operation: ChatStreamDocument,
  frame: () => null,
  dialogue: {
    credential: (first) =>
      first.type === 'auth' && typeof first.token === 'string' ? first.token : undefined,
    async open({ run }) {
      const { me } = await run(JoeCallerDocument, {});
      const { startSession } = await run(SessionStartDocument, { input: { title: 'JOE' } });
      const state: JoeState = { sessionId: startSession.id, admin: me.role === 'ADMIN' };
      return {
        state,
        greeting: { type: 'connected', agent: 'JOE', session_id: startSession.id, role: lower(me.role) },
      };
    },
    on: {
      async chat(frame, { state, run, send }) {
        const content = text(frame, 'content');
        if (!content?.trim()) throw new RestError('BAD_USER_INPUT', 'a chat message needs its content');
        const user = text(frame, 'user');
        const { chat: turn } = await run(ChatCompleteDocument, {
          input: { sessionId: state.sessionId, content },
        });
        const failed = failedTurn(turn);
        if (failed) throw new RestError(failed.code, failed.message);
        const { gazeHistory, attestationStatus } = await run(JoeGazeDocument, { first: TENSOR_SAMPLES });
        send({
          type: 'chat',
          ...(user === undefined ? {} : { user }),
          content: turn.assistantMessage?.content ?? '',
          ...gazeTensor(gazeHistory.nodes),
          cstb_score: cstbScore(attestationStatus),
          session_id: state.sessionId,
        });
      },
      async wallet_status(_frame, { state, run, send }) {
        operatorOnly(state, 'wallet_status');
        const [{ walletBalances, depositAddress }, { attestationStatus: a }] = await Promise.all([
          run(WalletOverviewDocument, {}),
          run(AttestationStatusDocument, {}),
        ]);
        send({
          type: 'wallet_status',
          balances: Object.fromEntries(
            walletBalances.map((b) => [b.asset, minorToNumber(b.availableMinor, b.decimals)]),
          ),
          deposit_address: depositAddress.enabled ? depositAddress.address : null,
          attestation: { status: lower(a.status), cstb_score: cstbScore(a), verified_at: a.verifiedAt },
        });
      },
      async wallet_metadata(_frame, { state, run, send }) {
        operatorOnly(state, 'wallet_metadata');
        const { agentCard } = await run(A2aAgentCardDocument, {});
        const card = cardV1(agentCard, {});
        // The agent's identity card in ERC-8004's registration shape; it is registered on no chain yet.
        send({
          type: 'wallet_metadata',
          name: card.name,
          description: card.description,
          version: card.version,
          endpoints: card.supportedInterfaces.map((i) => ({
            name: 'A2A',
            endpoint: i.url,
            version: i.protocolVersion,
          })),
          skills: card.skills,
          registrations: [],
        });
      },
      async x402_policy(_frame, { state, send }) {
        operatorOnly(state, 'x402_policy');
        const config = loadConfig();
        send({
          type: 'x402_policy',
          x402: {
            enabled: Boolean(config.X402_FACILITATOR_URL && config.X402_PAY_TO),
            scheme: 'exact',
            network: config.X402_NETWORK,
            asset: config.X402_ASSET,
            asset_name: config.X402_ASSET_NAME,
            pay_to: config.X402_PAY_TO ?? null,
          },
          mpp: { enabled: config.MPP_ENABLED === 'true', price_usd: config.MPP_PRICE_MICRO_USD / 1e6 },
        });
      },
      async bridge_status(_frame, { state, send }) {
        operatorOnly(state, 'bridge_status');
        // The platform moves value on no cross-chain bridge (LayerZero or other); said, not faked.
        send({ type: 'bridge_status', enabled: false, provider: null, bridges: [] });
      },
    },
    close: ({ state, run }) => run(SessionCloseDocument, { id: state.sessionId }),
    error: ({ code, message }) => ({ type: 'error', code: lower(code), message }),
  },
});
