/**
 * 002's messaging channels end to end: Telegram and WhatsApp webhooks through the router's runtime
 * dialect into the sessions subgraph, each message a chat turn answered by the LLM double, and the
 * answer sent back to the doubles of Telegram's Bot API and WhatsApp's Graph API.
 */
import { createHmac } from 'node:crypto';
import { createAgent } from '../support/fixtures';
import { startTelegramDouble, startWhatsAppDouble, type ChannelApiDouble } from '../support/channel-doubles';
import { ANSWER, startLlmDouble, useUpstream, type LlmDouble } from '../support/llm-double';
import { startTestPlatform, type TestPlatform, type User } from '../support/platform';
import { PROCESSING_ERROR_REPLY } from '../../subgraphs/sessions/channels/channel.turns';
import { eventually, ISO, rest, type Rest } from './support';

const BOT_TOKEN = '123456:test-bot-token';
const SECRET = 'telegram-webhook-secret_1';
const APP_SECRET = 'whatsapp-app-secret';
const VERIFY_TOKEN = 'whatsapp-verify-token';
const WA_TOKEN = 'EAAG-test-access-token';
const PHONE_ID = '1098765432';
const ANSWER_TEXT = ANSWER.join('');

let llm: LlmDouble;
let telegram: ChannelApiDouble;
let whatsapp: ChannelApiDouble;
let t: TestPlatform;
let ada: User;
let api: Rest;
let anonymous: Rest;
let agentId: string;

beforeAll(async () => {
  llm = await startLlmDouble();
  useUpstream(llm);
  telegram = await startTelegramDouble(BOT_TOKEN);
  whatsapp = await startWhatsAppDouble('v21.0', PHONE_ID, WA_TOKEN);
  Object.assign(process.env, {
    TELEGRAM_BOT_TOKEN: BOT_TOKEN,
    TELEGRAM_WEBHOOK_SECRET: SECRET,
    TELEGRAM_API_URL: telegram.url,
    WHATSAPP_ACCESS_TOKEN: WA_TOKEN,
    WHATSAPP_PHONE_NUMBER_ID: PHONE_ID,
    WHATSAPP_VERIFY_TOKEN: VERIFY_TOKEN,
    WHATSAPP_APP_SECRET: APP_SECRET,
    WHATSAPP_API_URL: `${whatsapp.url}/v21.0`,
  });
  t = await startTestPlatform();
  ada = await t.register('Ada');
  api = rest(t, ada.credential);
  anonymous = rest(t);
  agentId = (await createAgent(ada)).id;
  // The channels' bound account (and Telegram's agent) exist only now; settings are read on each use.
  Object.assign(process.env, {
    TELEGRAM_ACCOUNT_ID: ada.id,
    TELEGRAM_AGENT_ID: agentId,
    WHATSAPP_ACCOUNT_ID: ada.id,
  });
});
// A test that fails half-way must not leave a double refusing the next test's sends.
afterEach(() => {
  telegram.failing = false;
  telegram.unavailable = 0;
});
afterAll(async () => {
  await t.close();
  await Promise.all([llm.close(), telegram.close(), whatsapp.close()]);
  for (const name of Object.keys(process.env))
    if (/^(TELEGRAM|WHATSAPP)_/.test(name)) delete process.env[name];
});

let updateId = 5000;
const telegramUpdate = (chatId: number, text: string, id = ++updateId) => ({
  update_id: id,
  message: {
    message_id: id,
    from: { id: chatId, is_bot: false, first_name: 'Grace' },
    chat: { id: chatId, type: 'private', first_name: 'Grace' },
    date: 1_700_000_000,
    text,
  },
});

const postTelegram = (update: unknown, secret: string | null = SECRET) =>
  anonymous('POST', '/runtime/api/webhooks/telegram', {
    raw: JSON.stringify(update),
    headers: {
      'content-type': 'application/json',
      ...(secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret }),
    },
  });

const whatsAppPayload = (from: string, messageId: string, text: string) => ({
  object: 'whatsapp_business_account',
  entry: [
    {
      id: 'WABA_ID',
      changes: [
        {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '15550001111', phone_number_id: PHONE_ID },
            contacts: [{ profile: { name: 'Grace' }, wa_id: from }],
            messages: [{ from, id: messageId, timestamp: '1700000000', type: 'text', text: { body: text } }],
          },
        },
      ],
    },
  ],
});

const sign = (raw: string, secret = APP_SECRET) =>
  `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

const postWhatsApp = (payload: unknown, signature?: (raw: string) => string | undefined) => {
  const raw = JSON.stringify(payload);
  const header = (signature ?? sign)(raw);
  return anonymous('POST', '/runtime/api/webhooks/whatsapp', {
    raw,
    headers: { 'content-type': 'application/json', ...(header ? { 'x-hub-signature-256': header } : {}) },
  });
};

const status = async (name: string) => {
  const response = await api('GET', '/runtime/api/channels/status');
  expect(response.status).toBe(200);
  return (response.body as { name: string }[]).find((c) => c.name === name) as Record<string, unknown>;
};

const sentTo = (double: ChannelApiDouble, key: string, recipient: string) =>
  double.sent.filter((m) => String(m.body[key]) === recipient);

const sessionsOf = async () => (await api('GET', '/runtime/api/sessions?limit=100')).body.sessions as Json[];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** Reads until `read` answers something (a background answer has arrived), for up to 10 s. */
async function poll<T>(read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('nothing arrived within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a Telegram message is answered through the LLM and sendMessage, in one session per chat', async () => {
  const before = await status('telegram');
  const first = await postTelegram(telegramUpdate(4242, 'Hi there'));
  expect(first.status).toBe(200);
  expect(first.body).toEqual({ ok: true });

  const [sent] = await eventually(
    () => sentTo(telegram, 'chat_id', '4242'),
    (list) => list.length === 1,
    10_000,
  );
  expect(sent).toEqual({
    path: `/bot${BOT_TOKEN}/sendMessage`,
    authorization: undefined,
    body: { chat_id: '4242', text: ANSWER_TEXT },
  });
  expect(llm.requests.at(-1)!.messages.at(-1)).toEqual({ role: 'user', content: 'Hi there' });

  // A second message of the chat goes on in its session, with the first exchange as context.
  expect((await postTelegram(telegramUpdate(4242, 'And again'))).status).toBe(200);
  await eventually(
    () => sentTo(telegram, 'chat_id', '4242'),
    (list) => list.length === 2,
    10_000,
  );
  expect(llm.requests.at(-1)!.messages.map((m) => m.content)).toEqual(['Hi there', ANSWER_TEXT, 'And again']);
  const sessions = (await sessionsOf()).filter((s) => s.nickname === 'telegram 4242');
  expect(sessions).toHaveLength(1);
  expect(sessions[0].agent_id).toBe(agentId);
  const messages = await api('GET', `/runtime/api/sessions/${sessions[0].id}/messages`);
  expect(messages.body.messages.map((m: Json) => [m.role, m.content])).toEqual([
    ['user', 'Hi there'],
    ['assistant', ANSWER_TEXT],
    ['user', 'And again'],
    ['assistant', ANSWER_TEXT],
  ]);

  // The double has the answer a moment before the platform records it as sent.
  const after = await poll(async () => {
    const figures = await status('telegram');
    return figures.messages_sent === (before.messages_sent as number) + 2 ? figures : undefined;
  });
  expect(after).toMatchObject({
    name: 'telegram',
    connected: true,
    configured: true,
    messages_received: (before.messages_received as number) + 2,
    messages_sent: (before.messages_sent as number) + 2,
    last_activity: ISO,
    last_inbound_at: ISO,
    last_outbound_at: ISO,
  });
});

test('a Telegram update delivered twice is answered once', async () => {
  const update = telegramUpdate(7777, 'Only once please');
  const before = await status('telegram');
  expect((await postTelegram(update)).status).toBe(200);
  // The repeat is recognised when it arrives (its update_id is stored), so it starts nothing.
  const again = await postTelegram(update);
  expect(again.status).toBe(200);
  expect(again.body).toEqual({ ok: true });
  await eventually(
    () => sentTo(telegram, 'chat_id', '7777'),
    (list) => list.length === 1,
    10_000,
  );
  const after = await status('telegram');
  expect(after.messages_received).toBe((before.messages_received as number) + 1);
  const [session] = (await sessionsOf()).filter((s) => s.nickname === 'telegram 7777');
  const messages = await api('GET', `/runtime/api/sessions/${session.id}/messages`);
  expect(messages.body.messages.map((m: Json) => m.role)).toEqual(['user', 'assistant']);
  expect(sentTo(telegram, 'chat_id', '7777')).toHaveLength(1);
});

test('a Telegram update without the secret, or with a wrong one, is refused and stores nothing', async () => {
  const before = await status('telegram');
  const llmCalls = llm.requests.length;
  for (const secret of [null, '', 'not-the-secret', `${SECRET}x`]) {
    const response = await postTelegram(telegramUpdate(9999, 'let me in'), secret);
    expect(response.status).toBe(401);
    expect(response.body).toEqual({ error: 'unauthorized', message: 'missing or invalid webhook secret' });
  }
  // Malformed updates with the right secret: 400 and nothing stored either.
  const notJson = await anonymous('POST', '/runtime/api/webhooks/telegram', {
    raw: '{"update_id": ',
    headers: { 'x-telegram-bot-api-secret-token': SECRET },
  });
  expect(notJson.status).toBe(400);
  expect(notJson.body).toEqual({ error: 'the body is not JSON' });
  const nul = await postTelegram(telegramUpdate(9999, 'bad\u0000text'));
  expect(nul.status).toBe(400);
  expect(nul.body).toEqual({ error: expect.stringContaining('message.text') });
  expect(await status('telegram')).toMatchObject({ messages_received: before.messages_received });
  expect(llm.requests.length).toBe(llmCalls);
  expect(sentTo(telegram, 'chat_id', '9999')).toHaveLength(0);
});

test("WhatsApp's verify challenge is answered only with the configured token", async () => {
  const query = (token: string, mode = 'subscribe') =>
    `/runtime/api/webhooks/whatsapp?hub.mode=${mode}&hub.verify_token=${encodeURIComponent(token)}&hub.challenge=1158201444`;
  const ok = await anonymous('GET', query(VERIFY_TOKEN));
  expect(ok.status).toBe(200);
  expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
  expect(ok.text).toBe('1158201444');
  for (const refused of [
    await anonymous('GET', query('wrong')),
    await anonymous('GET', query(VERIFY_TOKEN, 'unsubscribe')),
  ]) {
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: expect.stringContaining('verification failed') });
  }
});

test('a WhatsApp message is answered through the Graph API; a bad signature is refused', async () => {
  const before = await status('whatsapp');
  const response = await postWhatsApp(whatsAppPayload('15551234567', 'wamid.in-1', 'Hello from WhatsApp'));
  expect(response.status).toBe(200);
  expect(response.body).toEqual({ ok: true });
  const [sent] = await eventually(
    () => sentTo(whatsapp, 'to', '15551234567'),
    (list) => list.length === 1,
    10_000,
  );
  expect(sent).toEqual({
    path: `/v21.0/${PHONE_ID}/messages`,
    authorization: `Bearer ${WA_TOKEN}`,
    body: {
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      to: '15551234567',
      type: 'text',
      text: { body: ANSWER_TEXT },
    },
  });
  const after = await poll(async () => {
    const figures = await status('whatsapp');
    return figures.messages_sent === (before.messages_sent as number) + 1 ? figures : undefined;
  });
  expect(after).toMatchObject({
    configured: true,
    messages_received: (before.messages_received as number) + 1,
  });

  const llmCalls = llm.requests.length;
  const forged = whatsAppPayload('15550000000', 'wamid.forged', 'forged');
  for (const signature of [
    () => undefined,
    () => 'sha256=nothex',
    (raw: string) => sign(raw, 'another-secret'),
    (raw: string) => sign(`${raw} `),
  ]) {
    const refused = await postWhatsApp(forged, signature);
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: 'unauthorized', message: expect.stringMatching(/signature/i) });
  }
  expect(await status('whatsapp')).toMatchObject({
    messages_received: (before.messages_received as number) + 1,
  });
  expect(llm.requests.length).toBe(llmCalls);
  expect(sentTo(whatsapp, 'to', '15550000000')).toHaveLength(0);
});

test('an answer Telegram refuses lands in the dead-letter list and is replayed once', async () => {
  telegram.failing = true;
  expect((await postTelegram(telegramUpdate(3131, 'Are you there?'))).status).toBe(200);
  const letters = await poll(async () => {
    const response = await api('GET', '/runtime/api/channels/dead-letter');
    const found = response.body.dead_letters.filter((l: Json) => l.recipient_id === '3131');
    return found.length ? { response, found } : undefined;
  });
  expect(letters.response.status).toBe(200);
  const [letter] = letters.found;
  expect(letter).toEqual({
    id: expect.stringMatching(/^chout_/),
    channel: 'telegram',
    recipient_id: '3131',
    content: ANSWER_TEXT,
    idempotency_key: letter.id,
    status: 'failed',
    attempts: 1,
    last_status_code: 403,
    error: 'the API answered 403: Forbidden: bot was blocked by the user',
    last_error: 'the API answered 403: Forbidden: bot was blocked by the user',
    created_at: ISO,
    updated_at: ISO,
  });
  expect(letters.response.body.total).toBeGreaterThanOrEqual(1);
  expect(await status('telegram')).toMatchObject({
    last_error: 'the API answered 403: Forbidden: bot was blocked by the user',
    errors: expect.any(Number),
  });
  expect((await status('telegram')).errors).toBeGreaterThanOrEqual(1);

  // A second one: the list is newest first, paged by limit and offset.
  expect((await postTelegram(telegramUpdate(3232, 'Hello?'))).status).toBe(200);
  const both = await poll(async () => {
    const response = await api('GET', '/runtime/api/channels/dead-letter');
    return response.body.total === 2 ? response.body : undefined;
  });
  expect(both.dead_letters.map((l: Json) => l.recipient_id)).toEqual(['3232', '3131']);
  const second = await api('GET', '/runtime/api/channels/dead-letter?limit=1&offset=1');
  expect(second.body).toEqual({ items: [letter], count: 1, dead_letters: [letter], total: 2 });

  // Another account sees none of it and cannot replay it.
  const stranger = await t.register('Stranger');
  const theirs = await rest(t, stranger.credential)('GET', '/runtime/api/channels/dead-letter');
  expect(theirs.body).toEqual({ items: [], count: 0, dead_letters: [], total: 0 });
  const foreign = await rest(t, stranger.credential)(
    'POST',
    `/runtime/api/channels/dead-letter/${letter.id}/replay`,
  );
  expect(foreign.status).toBe(404);

  telegram.failing = false;
  const replay = await api('POST', `/runtime/api/channels/dead-letter/${letter.id}/replay`);
  expect(replay.status).toBe(200);
  expect(replay.body).toMatchObject({
    ok: true,
    replayed: true,
    id: letter.id,
    status: 'sent',
    attempts: 2,
    error: null,
  });
  expect(sentTo(telegram, 'chat_id', '3131')).toEqual([
    {
      path: `/bot${BOT_TOKEN}/sendMessage`,
      authorization: undefined,
      body: { chat_id: '3131', text: ANSWER_TEXT },
    },
  ]);
  const after = await api('GET', '/runtime/api/channels/dead-letter');
  expect(after.body.dead_letters.map((l: Json) => l.recipient_id)).toEqual(['3232']);
  const again = await api('POST', `/runtime/api/channels/dead-letter/${letter.id}/replay`);
  expect(again.status).toBe(409);
  expect(again.body).toEqual({ error: expect.stringContaining('only FAILED messages') });
});

test('the dead-letter list pages the merged list by limit and offset, bounded', async () => {
  const bad = await api('GET', '/runtime/api/channels/dead-letter?limit=60&offset=50');
  expect(bad.status).toBe(400);
  expect(bad.body).toEqual({ error: expect.stringContaining('at most 100') });
  expect((await api('GET', '/runtime/api/channels/dead-letter?offset=-1')).status).toBe(400);
  const page = await api('GET', '/runtime/api/channels/dead-letter?limit=1&offset=0');
  expect(page.status).toBe(200);
  expect(page.body.dead_letters.length).toBeLessThanOrEqual(1);
});

test('a channel without its settings answers 503; an update without text is taken and left alone', async () => {
  const secret = process.env.TELEGRAM_WEBHOOK_SECRET;
  delete process.env.TELEGRAM_WEBHOOK_SECRET;
  try {
    const off = await postTelegram(telegramUpdate(1212, 'anyone?'));
    expect(off.status).toBe(503);
    expect(off.body).toEqual({ error: 'telegram is not configured' });
    expect(await status('telegram')).toMatchObject({ configured: false, connected: false });
  } finally {
    process.env.TELEGRAM_WEBHOOK_SECRET = secret;
  }
  const before = await status('telegram');
  const sticker = {
    update_id: ++updateId,
    message: { message_id: 1, chat: { id: 1212, type: 'private' }, sticker: {} },
  };
  const taken = await postTelegram(sticker);
  expect(taken.status).toBe(200);
  expect(taken.body).toEqual({ ok: true });
  expect(await status('telegram')).toMatchObject({
    configured: true,
    messages_received: before.messages_received,
  });
  expect((await anonymous('GET', '/runtime/api/channels/status')).status).toBe(401);
});

test('a send the Bot API refuses for a passing reason (502) is tried again, not dead-lettered', async () => {
  telegram.unavailable = 2;
  expect((await postTelegram(telegramUpdate(5656, 'Flaky line'))).status).toBe(200);
  const [sent] = await eventually(
    () => sentTo(telegram, 'chat_id', '5656'),
    (list) => list.length === 1,
    30_000, // a turn, then two waits of 0.5 and 2 s before the retries, on a busy machine
  );
  expect(sent.body).toEqual({ chat_id: '5656', text: ANSWER_TEXT });
  expect(telegram.unavailable).toBe(0);
  const letters = await api('GET', '/runtime/api/channels/dead-letter');
  expect(letters.body.dead_letters.map((l: Json) => l.recipient_id)).not.toContain('5656');
});

test('a message that cannot be answered (the bound account is gone) gets an apology and shows as an error', async () => {
  const bound = process.env.WHATSAPP_ACCOUNT_ID;
  process.env.WHATSAPP_ACCOUNT_ID = 'acc_01jzzzzzzzzzzzzzzzzzzzzzzz';
  try {
    const llmCalls = llm.requests.length;
    expect((await postWhatsApp(whatsAppPayload('15557654321', 'wamid.in-2', 'Anyone home?'))).status).toBe(
      200,
    );
    const [sent] = await eventually(
      () => sentTo(whatsapp, 'to', '15557654321'),
      (list) => list.length === 1,
      10_000,
    );
    expect(sent.body).toMatchObject({ to: '15557654321', text: { body: PROCESSING_ERROR_REPLY } });
    expect(llm.requests.length).toBe(llmCalls);
    const figures = await status('whatsapp');
    expect(figures.last_error).toBe(
      'whatsapp bound account: account acc_01jzzzzzzzzzzzzzzzzzzzzzzz not found',
    );
    expect(figures.errors).toBeGreaterThanOrEqual(1);
  } finally {
    process.env.WHATSAPP_ACCOUNT_ID = bound;
  }
});
