import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PayoutCall {
  id: string;
  asset: string;
  amount: string;
  decimals: number;
  destination: string;
  idempotencyKey: string | undefined;
}

/** How the double answers the next payouts: pay, refuse, or fail with a server error. */
export type PayoutBehaviour = 'complete' | 'refuse' | 'fail-status' | 'server-error';

/**
 * The payout service of README "Payout service" over HTTP: `POST /payouts` pays each id once and
 * answers the same result when asked again about it.
 */
export async function startPayoutDouble(options: { feeMinor?: bigint } = {}) {
  const calls: PayoutCall[] = [];
  const results = new Map<string, { status: number; body: Record<string, unknown> }>();
  let behaviour: PayoutBehaviour = 'complete';
  let paid = 0;

  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const send = (status: number, answer: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      };
      if (req.method !== 'POST' || req.url !== '/payouts') return send(404, { error: 'not found' });
      const request = JSON.parse(body) as Omit<PayoutCall, 'idempotencyKey'>;
      calls.push({ ...request, idempotencyKey: req.headers['idempotency-key'] as string | undefined });
      const known = results.get(request.id);
      if (known) return send(known.status, known.body);
      let result: { status: number; body: Record<string, unknown> };
      switch (behaviour) {
        case 'server-error':
          return send(503, { error: 'try again' }); // nothing decided, nothing remembered
        case 'refuse':
          result = { status: 422, body: { error: 'destination cannot receive this asset' } };
          break;
        case 'fail-status':
          result = {
            status: 200,
            body: { id: request.id, status: 'failed', reason: 'insufficient hot wallet' },
          };
          break;
        default:
          paid++;
          result = {
            status: 200,
            body: {
              id: request.id,
              status: 'completed',
              tx: `payout-tx-${paid}`,
              fee: (options.feeMinor ?? 0n).toString(),
            },
          };
      }
      results.set(request.id, result);
      send(result.status, result.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    behave(next: PayoutBehaviour) {
      behaviour = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type PayoutDouble = Awaited<ReturnType<typeof startPayoutDouble>>;
