import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Doubles of the two messaging APIs on 127.0.0.1, speaking their real paths and bodies:
 * - Telegram's Bot API: `POST /bot<token>/sendMessage` with `{chat_id, text}`, answered
 *   `{"ok": true, "result": Message}`, or, while `failing`, 403 `{"ok": false, "error_code", "description"}`
 *   as Telegram answers a bot the user blocked;
 * - WhatsApp's Cloud API (Graph API): `POST /<version>/<phone-number-id>/messages` with a Bearer
 *   token and `{messaging_product: "whatsapp", to, type: "text", text: {body}}`, answered with the
 *   message's wamid; a wrong token is 401 with the Graph API's error body.
 * A request the real API would refuse as malformed is refused here too, so the platform must send it right.
 */
export interface SentMessage {
  path: string;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

export interface ChannelApiDouble {
  url: string;
  sent: SentMessage[];
  /** While true, every send is refused for good (403 / 400). */
  failing: boolean;
  /** The next this many sends are answered 502, a failure that may pass. */
  unavailable: number;
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function startDouble(
  handle: (
    req: IncomingMessage,
    body: Record<string, unknown> | undefined,
    double: ChannelApiDouble,
  ) => [number, unknown],
): Promise<ChannelApiDouble> {
  const double: ChannelApiDouble = {
    url: '',
    sent: [],
    failing: false,
    unavailable: 0,
    close: async () => undefined,
  };
  const server = createServer((req, res) => {
    void readJson(req).then((body) => {
      const [status, answer] = handle(req, body, double);
      send(res, status, answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  double.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  double.close = () => new Promise((resolve) => server.close(() => resolve()));
  return double;
}

export function startTelegramDouble(token: string): Promise<ChannelApiDouble> {
  let messageId = 100;
  return startDouble((req, body, double) => {
    if (req.method !== 'POST' || req.url !== `/bot${token}/sendMessage`)
      return [404, { ok: false, error_code: 404, description: 'Not Found' }];
    if (
      !body ||
      (typeof body.chat_id !== 'string' && typeof body.chat_id !== 'number') ||
      typeof body.text !== 'string'
    )
      return [400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' }];
    if (double.failing)
      return [403, { ok: false, error_code: 403, description: 'Forbidden: bot was blocked by the user' }];
    if (double.unavailable > 0 && double.unavailable--)
      return [502, { ok: false, error_code: 502, description: 'Bad Gateway' }];
    double.sent.push({ path: req.url, authorization: req.headers.authorization, body });
    return [
      200,
      {
        ok: true,
        result: {
          message_id: messageId++,
          chat: { id: Number(body.chat_id), type: 'private' },
          date: 0,
          text: body.text,
        },
      },
    ];
  });
}

export function startWhatsAppDouble(
  version: string,
  phoneNumberId: string,
  token: string,
): Promise<ChannelApiDouble> {
  let messageId = 1;
  return startDouble((req, body, double) => {
    if (req.method !== 'POST' || req.url !== `/${version}/${phoneNumberId}/messages`)
      return [404, { error: { message: 'Unknown path', type: 'OAuthException', code: 803 } }];
    if (req.headers.authorization !== `Bearer ${token}`)
      return [401, { error: { message: 'Invalid OAuth access token.', type: 'OAuthException', code: 190 } }];
    const text = body?.text as { body?: unknown } | undefined;
    if (
      body?.messaging_product !== 'whatsapp' ||
      typeof body.to !== 'string' ||
      body.type !== 'text' ||
      typeof text?.body !== 'string'
    )
      return [400, { error: { message: '(#100) Invalid parameter', type: 'OAuthException', code: 100 } }];
    if (double.failing)
      return [
        400,
        { error: { message: '(#131026) Message undeliverable', type: 'OAuthException', code: 131026 } },
      ];
    double.sent.push({ path: req.url, authorization: req.headers.authorization, body });
    return [
      200,
      {
        messaging_product: 'whatsapp',
        contacts: [{ input: body.to, wa_id: body.to }],
        messages: [{ id: `wamid.out${messageId++}` }],
      },
    ];
  });
}
