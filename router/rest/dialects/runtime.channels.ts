/**
 * 002's messaging channels: Telegram's and WhatsApp's webhooks (public: each proves itself with its
 * secret token or body signature, checked by the sessions subgraph), the adapters' status, and the
 * dead-letter list, which merges failed webhook deliveries (tasks) with channel answers that could
 * not be sent (sessions). Shapes follow Ironclad's api/routes/channels.rs.
 */
import { MAX_PAGE_SIZE } from '../../../lib';
import {
  ChannelStatusDocument,
  DeadLetterListDocument,
  DeadLetterReplayDocument,
  TelegramUpdateReceiveDocument,
  WhatsAppVerifyDocument,
  WhatsAppWebhookReceiveDocument,
  type ChannelMessageRestFieldsFragment,
  type WebhookDeliveryRestFieldsFragment,
} from '../generated/graphql';
import { derived, fromHeader, fromPath, fromQuery, integer, lower, rawBodyBase64 } from '../mapping';
import { InputError, route, type Source } from '../types';

/**
 * A webhook delivery as 002's dead-letter queue lists it: Ironclad's item fields (api/routes/
 * channels.rs get_dead_letters) — the endpoint is the recipient, the JSON sent the content, the
 * delivery id (the webhook-id header) the idempotency key — and ours beside them.
 */
const webhookLetter = (d: WebhookDeliveryRestFieldsFragment) => ({
  id: d.id,
  channel: 'webhook',
  recipient_id: d.endpointId,
  content: d.payload,
  idempotency_key: d.id,
  last_error: d.lastError,
  endpoint_id: d.endpointId,
  event: d.eventType,
  payload: JSON.parse(d.payload) as unknown,
  status: lower(d.state),
  attempts: d.attempts,
  last_status_code: d.lastStatusCode,
  error: d.lastError,
  created_at: d.createdAt,
  updated_at: d.updatedAt,
});

/** A channel answer that was not sent, with Ironclad's DeliveryItem fields (recipient_id, content). */
const channelLetter = (m: ChannelMessageRestFieldsFragment) => ({
  id: m.id,
  channel: lower(m.channel),
  recipient_id: m.recipientId,
  content: m.content,
  idempotency_key: m.id,
  last_error: m.lastError,
  status: lower(m.state),
  attempts: m.attempts,
  last_status_code: m.lastStatusCode,
  error: m.lastError,
  created_at: m.createdAt,
  updated_at: m.updatedAt,
});

const CHANNEL_MESSAGE = /^chout_/;

/**
 * The merged list is paged by limit and offset over both lists, so each is read from its newest
 * `offset + limit` rows: together they may reach one page of the API (100).
 */
const mergedWindow: Source = {
  in: 'query',
  name: 'limit',
  description: `page size (default 50, as Ironclad's); limit + offset at most ${MAX_PAGE_SIZE}`,
  read: ({ query }) => ({ limit: query.get('limit') ?? '50', offset: query.get('offset') ?? '0' }),
  converter: {
    schema: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE },
    convert(value) {
      const { limit, offset } = value as { limit: string; offset: string };
      const size = integer(1, MAX_PAGE_SIZE).convert(limit) as number;
      let skip: number;
      try {
        skip = integer(0, MAX_PAGE_SIZE - 1).convert(offset) as number;
      } catch (error) {
        throw new InputError(`offset ${(error as Error).message}`);
      }
      if (size + skip > MAX_PAGE_SIZE) throw new InputError(`plus offset must be at most ${MAX_PAGE_SIZE}`);
      return size + skip;
    },
  },
};

const offsetOf = (query: URLSearchParams) => Number(query.get('offset') ?? 0);

const received = { ok: true };

export const runtimeChannelRoutes = [
  route({
    method: 'POST',
    path: '/api/webhooks/telegram',
    summary: 'Telegram webhook: a text message becomes a turn of the bound account, answered by sendMessage',
    operation: TelegramUpdateReceiveDocument,
    public: true,
    rawBody: true,
    variables: {
      secretToken: fromHeader('X-Telegram-Bot-Api-Secret-Token'),
      bodyBase64: rawBodyBase64(),
    },
    shape: () => received,
  }),
  route({
    method: 'GET',
    path: '/api/webhooks/whatsapp',
    summary: 'WhatsApp verify: answers hub.challenge when hub.verify_token is the configured one',
    operation: WhatsAppVerifyDocument,
    public: true,
    variables: {
      mode: fromQuery('hub.mode'),
      verifyToken: fromQuery('hub.verify_token'),
      challenge: fromQuery('hub.challenge'),
    },
    raw: ({ whatsAppVerification }) => ({
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: Buffer.from(whatsAppVerification),
    }),
  }),
  route({
    method: 'POST',
    path: '/api/webhooks/whatsapp',
    summary:
      'WhatsApp webhook (X-Hub-Signature-256 checked): text messages become turns, answered by the Graph API',
    operation: WhatsAppWebhookReceiveDocument,
    public: true,
    rawBody: true,
    variables: {
      signature: fromHeader('X-Hub-Signature-256'),
      bodyBase64: rawBodyBase64(),
    },
    shape: () => received,
  }),
  route({
    method: 'GET',
    path: '/api/channels/status',
    summary: 'Channel adapter status: configured, messages received and sent, errors, last activity',
    operation: ChannelStatusDocument,
    shape: ({ channelStatus }) =>
      channelStatus.map((c) => {
        const times = [c.lastInboundAt, c.lastOutboundAt].filter((t): t is string => Boolean(t)).sort();
        return {
          name: lower(c.name),
          connected: c.configured,
          configured: c.configured,
          messages_received: c.messagesReceived,
          messages_sent: c.messagesSent,
          errors: c.errors,
          last_error: c.lastError,
          last_activity: times.at(-1) ?? null,
          last_inbound_at: c.lastInboundAt,
          last_outbound_at: c.lastOutboundAt,
        };
      }),
  }),
  route({
    method: 'GET',
    path: '/api/channels/dead-letter',
    summary: 'Dead letter queue: webhook deliveries and channel answers that failed, newest first',
    operation: DeadLetterListDocument,
    variables: { first: mergedWindow },
    shape: ({ deadLetters, channelDeadLetters }, { input }) => {
      const letters = [
        ...deadLetters.nodes.map(webhookLetter),
        ...channelDeadLetters.nodes.map(channelLetter),
      ];
      letters.sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id));
      const offset = offsetOf(input.query);
      const limit = Number(input.query.get('limit') ?? 50);
      const items = letters.slice(offset, offset + limit);
      return {
        items,
        count: items.length,
        dead_letters: items,
        total: deadLetters.totalCount + channelDeadLetters.totalCount,
      };
    },
  }),
  route({
    method: 'POST',
    path: '/api/channels/dead-letter/:id/replay',
    summary:
      'Replay a dead letter: a webhook delivery is queued again (same webhook-id), a channel answer resent',
    operation: DeadLetterReplayDocument,
    variables: {
      id: fromPath('id'),
      webhook: derived(({ params }) => !CHANNEL_MESSAGE.test(params.id)),
      channel: derived(({ params }) => CHANNEL_MESSAGE.test(params.id)),
    },
    shape: ({ replayDelivery, replayChannelMessage }) => ({
      ok: true,
      replayed: true,
      ...(replayChannelMessage ? channelLetter(replayChannelMessage) : webhookLetter(replayDelivery!)),
    }),
  }),
];
