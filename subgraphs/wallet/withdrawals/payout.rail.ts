/**
 * Where withdrawals are paid out. The platform holds no keys: a payout service does the chain
 * work and answers what happened. The protocol (README "Payout service"):
 *
 *   POST {PAYOUT_URL}/payouts   Idempotency-Key: <withdrawal id>
 *   {"id", "asset": "USDC" | "SOL", "amount": "<minor units>", "decimals", "destination"}
 *   → 200 {"id", "status": "completed" | "failed" | "pending", "tx"?, "fee"?: "<minor units>", "reason"?}
 *
 * The service pays each id at most once, so asking again (after a timeout, or from the
 * reconciler) is safe. A 4xx answer is a refusal: nothing was paid.
 */

export interface PayoutRequest {
  /** The withdrawal id: the payout service's idempotency key. */
  id: string;
  /** What goes out on chain: USD credits leave as USDC, SOL as SOL. */
  asset: string;
  amountMinor: bigint;
  decimals: number;
  destination: string;
}

export type PayoutOutcome =
  | { status: 'completed'; tx: string; feeMinor: bigint }
  | { status: 'failed'; reason: string }
  /** Not known yet (still in flight, or the service could not be asked): the hold stays. */
  | { status: 'pending'; reason: string };

export interface PayoutRail {
  send(request: PayoutRequest): Promise<PayoutOutcome>;
}

const MAX_TEXT = 200;
const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, MAX_TEXT) : undefined);

/** The outcome a payout service's answer means; anything unreadable is `pending` (asked again later). */
export function payoutOutcome(status: number, body: unknown): PayoutOutcome {
  const answer = (body ?? {}) as Record<string, unknown>;
  if (status >= 400 && status < 500)
    return { status: 'failed', reason: text(answer.reason) ?? text(answer.error) ?? `refused (${status})` };
  if (status < 200 || status >= 300)
    return { status: 'pending', reason: `payout service answered ${status}` };
  const tx = text(answer.tx);
  const fee = typeof answer.fee === 'string' && /^\d{1,30}$/.test(answer.fee) ? BigInt(answer.fee) : 0n;
  if (answer.status === 'completed' && tx) return { status: 'completed', tx, feeMinor: fee };
  if (answer.status === 'failed') return { status: 'failed', reason: text(answer.reason) ?? 'payout failed' };
  return { status: 'pending', reason: text(answer.reason) ?? 'payout not confirmed yet' };
}

/** The payout service over HTTP. */
export class HttpPayoutRail implements PayoutRail {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async send(request: PayoutRequest): Promise<PayoutOutcome> {
    let response: Response;
    try {
      response = await fetch(
        new URL('payouts', this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`),
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': request.id },
          body: JSON.stringify({
            id: request.id,
            asset: request.asset,
            amount: request.amountMinor.toString(),
            decimals: request.decimals,
            destination: request.destination,
          }),
          signal: AbortSignal.timeout(this.timeoutMs),
          redirect: 'error',
        },
      );
    } catch {
      // It may or may not have paid: the withdrawal stays held until the service is asked again.
      return { status: 'pending', reason: 'payout service unreachable' };
    }
    const body: unknown = await response.json().catch(() => undefined);
    return payoutOutcome(response.status, body);
  }
}
