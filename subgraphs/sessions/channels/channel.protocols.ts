/**
 * The two channels' wire protocols: their settings, how a webhook proves it comes from the channel
 * (Telegram's secret-token header, WhatsApp's X-Hub-Signature-256), which messages an update holds,
 * and how an answer is sent (Bot API sendMessage, Cloud API /{phone-number-id}/messages).
 */
import { createHmac } from 'node:crypto';
import { AppError, badInput, inputTextProblem, loadConfig, sameSecret } from '../../../lib';
import { MAX_MESSAGE_CHARS } from '../chat.input';
import { ChannelName } from './channel.entities';

/** A channel's settings; `undefined` when it is not configured (its webhook then answers 503). */
export interface ChannelSettings {
  channel: ChannelName;
  accountId: string;
  agentId: string | null;
  apiUrl: string;
  /** Bot token (Telegram) or access token (WhatsApp). */
  token: string;
  /** Telegram's secret token, WhatsApp's app secret. */
  secret: string;
  /** WhatsApp only. */
  phoneNumberId?: string;
  verifyToken?: string;
}

/** Read on each use, so a changed environment (a test binding its account) applies at once. */
export function channelSettings(channel: ChannelName): ChannelSettings | undefined {
  const config = loadConfig();
  if (channel === ChannelName.TELEGRAM) {
    const {
      TELEGRAM_BOT_TOKEN: token,
      TELEGRAM_WEBHOOK_SECRET: secret,
      TELEGRAM_ACCOUNT_ID: accountId,
    } = config;
    if (!token || !secret || !accountId) return undefined;
    return {
      channel,
      accountId,
      agentId: config.TELEGRAM_AGENT_ID ?? null,
      apiUrl: config.TELEGRAM_API_URL.replace(/\/+$/, ''),
      token,
      secret,
    };
  }
  const {
    WHATSAPP_ACCESS_TOKEN: token,
    WHATSAPP_APP_SECRET: secret,
    WHATSAPP_ACCOUNT_ID: accountId,
  } = config;
  const phoneNumberId = config.WHATSAPP_PHONE_NUMBER_ID;
  if (!token || !secret || !accountId || !phoneNumberId) return undefined;
  return {
    channel,
    accountId,
    agentId: config.WHATSAPP_AGENT_ID ?? null,
    apiUrl: config.WHATSAPP_API_URL.replace(/\/+$/, ''),
    token,
    secret,
    phoneNumberId,
    verifyToken: config.WHATSAPP_VERIFY_TOKEN,
  };
}

export function requireSettings(channel: ChannelName): ChannelSettings {
  const settings = channelSettings(channel);
  if (!settings) throw new AppError('UPSTREAM_UNAVAILABLE', `${channel} is not configured`);
  return settings;
}

const refused = (message: string) => new AppError('UNAUTHENTICATED', message);

/** Telegram sends setWebhook's secret_token back in X-Telegram-Bot-Api-Secret-Token. */
export function checkTelegramSecret(settings: ChannelSettings, given: string | null | undefined): void {
  if (!given || !sameSecret(given, settings.secret)) throw refused('missing or invalid webhook secret');
}

/** Meta signs the raw body: `sha256=` and the hex HMAC-SHA256 of it keyed with the app secret. */
export function checkWhatsAppSignature(
  settings: ChannelSettings,
  header: string | null | undefined,
  body: Buffer,
): void {
  const hex = /^sha256=([0-9a-fA-F]{64})$/.exec(header?.trim() ?? '')?.[1];
  if (!hex) throw refused('missing or invalid X-Hub-Signature-256');
  const expected = createHmac('sha256', settings.secret).update(body).digest();
  if (!sameSecret(Buffer.from(hex, 'hex'), expected)) throw refused('invalid webhook signature');
}

/** The Cloud API's subscription check: the challenge back when the mode and token are right. */
export function whatsAppChallenge(
  mode: string | null,
  token: string | null,
  challenge: string | null,
): string {
  const verifyToken = channelSettings(ChannelName.WHATSAPP)?.verifyToken;
  if (!verifyToken) throw new AppError('UPSTREAM_UNAVAILABLE', 'whatsapp is not configured');
  if (mode !== 'subscribe' || !token || !sameSecret(token, verifyToken) || !challenge)
    throw new AppError('FORBIDDEN', 'verification failed: hub.mode, hub.verify_token or hub.challenge');
  if (challenge.length > 256 || inputTextProblem(challenge, 'hub.challenge'))
    throw badInput('hub.challenge must be at most 256 characters of text', { argument: 'challenge' });
  return challenge;
}

/** A text message of an update: who sent it (and is answered), the channel's id of it, and the text. */
export interface InboundText {
  externalId: string;
  chatId: string;
  text: string;
}

/** The most messages one WhatsApp webhook may carry that are taken; Meta batches a few at most. */
const MAX_MESSAGES_PER_WEBHOOK = 20;

function parseJson(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw badInput('the body is not JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw badInput('the body is not a JSON object');
  return value as Record<string, unknown>;
}

const objectAt = (value: unknown): Record<string, unknown> | undefined =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

const arrayAt = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** A message's text, refused when a chat turn could not take it. */
function checkedText(text: string, field: string): string {
  const problem = inputTextProblem(text, field, MAX_MESSAGE_CHARS);
  if (problem) throw badInput(problem.message, { field });
  return text;
}

/**
 * Telegram's Update: a `message` with `text` is answered (others, edits and joins say, are taken and
 * left alone, as Ironclad's adapter does); `update_id` makes a repeated delivery recognisable.
 */
export function telegramMessages(body: Buffer): InboundText[] {
  const update = parseJson(body);
  if (!Number.isSafeInteger(update.update_id)) throw badInput('update_id must be an integer');
  const message = objectAt(update.message);
  const chatId = objectAt(message?.chat)?.id;
  if (!message || typeof message.text !== 'string' || !message.text.trim()) return [];
  if (!Number.isSafeInteger(chatId)) throw badInput('message.chat.id must be an integer');
  return [
    {
      externalId: String(update.update_id as number),
      chatId: String(chatId as number),
      text: checkedText(message.text, 'message.text'),
    },
  ];
}

/**
 * The Cloud API's webhook: `entry[].changes[].value.messages[]`; text messages are answered, status
 * updates and other kinds are left alone. Each message's `id` (wamid) makes a repeat recognisable.
 */
export function whatsAppMessages(body: Buffer): InboundText[] {
  const payload = parseJson(body);
  const messages = arrayAt(payload.entry)
    .flatMap((entry) => arrayAt(objectAt(entry)?.changes))
    .flatMap((change) => arrayAt(objectAt(objectAt(change)?.value)?.messages))
    .map(objectAt)
    .filter((message) => message?.type === 'text');
  if (messages.length > MAX_MESSAGES_PER_WEBHOOK)
    throw badInput(`a webhook may carry at most ${MAX_MESSAGES_PER_WEBHOOK} messages`);
  return messages.flatMap((message) => {
    const text = objectAt(message!.text)?.body;
    const { id, from } = message!;
    if (typeof id !== 'string' || !id || id.length > 200) throw badInput('messages[].id is missing');
    if (typeof from !== 'string' || !/^\d{1,30}$/.test(from))
      throw badInput('messages[].from must be a phone number');
    if (typeof text !== 'string' || !text.trim()) return [];
    return [{ externalId: id, chatId: from, text: checkedText(text, 'messages[].text.body') }];
  });
}

/** Telegram refuses a message longer than this; a longer answer goes as several. */
const TELEGRAM_MAX_CHARS = 4096;
const WHATSAPP_MAX_CHARS = 4096;
const SEND_TIMEOUT_MS = 10_000;

function chunks(text: string, size: number): string[] {
  const parts: string[] = [];
  for (let start = 0; start < text.length; start += size) parts.push(text.slice(start, start + size));
  return parts.length ? parts : [''];
}

/** Why a send failed: the API's status (when it answered) and what it said. */
export class SendError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

/** Waits before the second and third try of a send that failed for a passing reason. */
const RETRY_DELAYS_MS = [500, 2000];

/** No answer, a rate limit or a fault of the API's may pass; any other refusal is final (a blocked bot). */
const mayPass = (error: SendError) => error.status === null || error.status === 429 || error.status >= 500;

/** Posts one message, tried again while the failure may pass; each chunk on its own, so none goes twice. */
async function post(url: string, headers: Record<string, string>, body: unknown): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await postOnce(url, headers, body);
    } catch (error) {
      const delay = RETRY_DELAYS_MS[attempt];
      if (!(error instanceof SendError) || !mayPass(error) || delay === undefined) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

async function postOnce(url: string, headers: Record<string, string>, body: unknown): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
  } catch (error) {
    throw new SendError(`no answer: ${(error as Error).message}`, null);
  }
  const answer = objectAt(await response.json().catch(() => undefined));
  // The Bot API answers {"ok": false, "description"}; the Graph API {"error": {"message"}}.
  const said = answer?.description ?? objectAt(answer?.error)?.message;
  if (!response.ok || answer?.ok === false)
    throw new SendError(
      `the API answered ${response.status}${typeof said === 'string' ? `: ${said.slice(0, 300)}` : ''}`,
      response.status,
    );
}

/** Sends `text` to `recipient` through the channel's API; throws a SendError when it is not taken. */
export async function sendText(settings: ChannelSettings, recipient: string, text: string): Promise<void> {
  if (settings.channel === ChannelName.TELEGRAM) {
    // The token is part of the Bot API's path; it never leaves in an error (SendError names none).
    const url = `${settings.apiUrl}/bot${settings.token}/sendMessage`;
    for (const part of chunks(text, TELEGRAM_MAX_CHARS))
      await post(url, {}, { chat_id: recipient, text: part });
    return;
  }
  const url = `${settings.apiUrl}/${settings.phoneNumberId}/messages`;
  for (const part of chunks(text, WHATSAPP_MAX_CHARS))
    await post(
      url,
      { authorization: `Bearer ${settings.token}` },
      {
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: recipient,
        type: 'text',
        text: { body: part },
      },
    );
}
