/**
 * 000's JOE agent socket (/ws/joe) through the router to the sessions subgraph and the LLM double:
 * chat answered {content, tensor, cstb_score} with the tensor read from the caller's gaze, and the
 * four operator queries, which a plain user is refused while its socket stays open.
 */
import { ANSWER, startLlmDouble, useUpstream, type LlmDouble } from '../support/llm-double';
import { startTestPlatform, type TestPlatform } from '../support/platform';
import { registerAdmin } from '../tasks.support';
import { openSocket, rest } from './support';

let double: LlmDouble;
let t: TestPlatform;

beforeAll(async () => {
  double = await startLlmDouble();
  useUpstream(double);
  t = await startTestPlatform();
});
afterAll(async () => {
  await t.close();
  await double.close();
});

type Socket = ReturnType<typeof openSocket>;

/** Opens the socket, authenticates with `token`, runs `work` after the greeting, and closes. */
async function asJoe(
  token: string,
  work: (socket: Socket, greeting: Record<string, unknown>) => Promise<void>,
) {
  const socket = openSocket(`${t.url.replace(/^http/, 'ws')}/ws/joe`);
  await socket.opened;
  try {
    socket.ws.send(JSON.stringify({ type: 'auth', token }));
    await work(socket, await socket.next());
  } finally {
    await socket.close();
  }
}

const ask = async (socket: Socket, frame: Record<string, unknown>) => {
  socket.ws.send(JSON.stringify(frame));
  return socket.next(10_000);
};

const OPERATOR_QUERIES = ['wallet_status', 'wallet_metadata', 'x402_policy', 'bridge_status'];

test('chat: the answer, the tensor from the gaze (confidence-weighted) and the CSTB score', async () => {
  const user = await t.register('Gazer');
  const api = rest(t, user.credential);
  // Weighted by confidence COG leads (0.55 against EMO 0.35); an unweighted mean would say EMO.
  for (const sample of [
    { gaze_x: 0.5, gaze_y: 0.5, cog_value: 0.7, emo_value: 0.2, env_value: 0.1, confidence: 0.9 },
    { gaze_x: 0.5, gaze_y: 0.5, cog_value: 0.1, emo_value: 0.8, env_value: 0.3, confidence: 0.3 },
  ])
    expect((await api('POST', '/api/gaze/store', { body: sample })).status).toBe(200);
  const { progress_cs: progress } = (await api('GET', '/api/attestation/status')).body;

  await asJoe(user.credential!, async (socket, greeting) => {
    expect(greeting).toEqual({
      type: 'connected',
      agent: 'JOE',
      session_id: expect.stringMatching(/^ses_/),
      role: 'user',
    });
    expect(await ask(socket, { type: 'chat', user: 'gazer', content: 'Hello JOE' })).toEqual({
      type: 'chat',
      user: 'gazer',
      content: ANSWER.join(''),
      tensor: 'COG',
      tensor_values: { cog: 0.55, emo: 0.35, env: 0.15 },
      tensor_source: 'gaze',
      cstb_score: Math.round((Math.min(222, progress) / 222) * 1000) / 1000,
      session_id: greeting.session_id,
    });
    expect(double.requests.at(-1)!.messages.at(-1)).toEqual({ role: 'user', content: 'Hello JOE' });
    // The exchange is kept in the socket's own session.
    const history = await api('GET', `/api/sessions/${String(greeting.session_id)}/messages`);
    expect(history.body.messages.map((m: { content: string }) => m.content)).toEqual([
      'Hello JOE',
      ANSWER.join(''),
    ]);
  });
});

test('chat without gaze has no tensor; a message without content is an error frame', async () => {
  const user = await t.register('Unseen');
  await asJoe(user.credential!, async (socket) => {
    expect(await ask(socket, { type: 'chat', user: 'unseen', content: 'Hi' })).toMatchObject({
      content: ANSWER.join(''),
      tensor: null,
      tensor_values: null,
      tensor_source: 'none',
      cstb_score: 0,
    });
    expect(await ask(socket, { type: 'chat', content: '  ' })).toEqual({
      type: 'error',
      code: 'bad_user_input',
      message: expect.stringContaining('content'),
    });
  });
});

test('a plain user is refused every operator query and its socket stays open', async () => {
  const user = await t.register('Curious');
  await asJoe(user.credential!, async (socket) => {
    for (const type of OPERATOR_QUERIES)
      expect(await ask(socket, { type })).toEqual({
        type: 'error',
        code: 'forbidden',
        message: `${type} is for operators (admins) only`,
      });
    expect((await ask(socket, { type: 'chat', content: 'still there?' })).content).toBe(ANSWER.join(''));
  });
});

test('an admin gets wallet_status, wallet_metadata, x402_policy and bridge_status', async () => {
  const admin = await registerAdmin(t);
  await asJoe(admin.credential!, async (socket, greeting) => {
    expect(greeting.role).toBe('admin');
    expect(await ask(socket, { type: 'wallet_status' })).toEqual({
      type: 'wallet_status',
      balances: expect.any(Object),
      deposit_address: null,
      attestation: { status: 'pending', cstb_score: 0, verified_at: null },
    });
    const metadata = await ask(socket, { type: 'wallet_metadata' });
    expect(metadata).toMatchObject({
      type: 'wallet_metadata',
      name: expect.any(String),
      endpoints: [{ name: 'A2A', endpoint: expect.stringMatching(/\/api\/a2a$/), version: '1.0' }],
      skills: expect.any(Array),
      registrations: [],
    });
    expect(await ask(socket, { type: 'x402_policy' })).toEqual({
      type: 'x402_policy',
      x402: {
        enabled: false,
        scheme: 'exact',
        network: 'eip155:8453',
        asset: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
        asset_name: 'USD Coin',
        pay_to: null,
      },
      mpp: { enabled: false, price_usd: 0.01 },
    });
    expect(await ask(socket, { type: 'bridge_status' })).toEqual({
      type: 'bridge_status',
      enabled: false,
      provider: null,
      bridges: [],
    });
  });
});

test('without an auth frame first the socket says so and is closed unauthenticated', async () => {
  const socket = openSocket(`${t.url.replace(/^http/, 'ws')}/ws/joe`);
  await socket.opened;
  socket.ws.send(JSON.stringify({ type: 'chat', content: 'let me in' }));
  expect(await socket.next()).toEqual({
    type: 'error',
    code: 'unauthenticated',
    message: expect.any(String),
  });
  await expect(socket.next()).rejects.toThrow(/socket closed 4401/);
});
