import type { IncomingHttpHeaders } from 'node:http';
import { RestError } from './errors';

const PAYMENT_SCHEME = /^Payment\s+\S/i;

/**
 * MPP's credential: `Authorization: Payment <base64url credential>` (the IETF "Payment" HTTP
 * authentication scheme; RFC 9110 lets one Authorization list several schemes, comma-separated).
 */
export function mppCredentialOf(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization !== 'string') return undefined;
  return authorization
    .split(',')
    .map((scheme) => scheme.trim())
    .find((scheme) => PAYMENT_SCHEME.test(scheme));
}

/**
 * The payment credentials a request may carry, in precedence order: x402 v2's `PAYMENT-SIGNATURE`,
 * MPP's `Authorization: Payment …`, hermesx402's `X-Payment-Proof`. A request carries at most one;
 * which one a row accepts is the row's business (its variables read the header).
 */
export const PAYMENT_CREDENTIALS = [
  { kind: 'x402', header: 'PAYMENT-SIGNATURE', sent: (h: IncomingHttpHeaders) => h['payment-signature'] },
  {
    kind: 'mpp',
    header: 'Authorization: Payment',
    sent: mppCredentialOf,
  },
  { kind: 'proof', header: 'X-Payment-Proof', sent: (h: IncomingHttpHeaders) => h['x-payment-proof'] },
] as const;

export type PaymentCredentialKind = (typeof PAYMENT_CREDENTIALS)[number]['kind'];

/** The one payment credential of a request, or none; several are ambiguous: 400 naming them. */
export function paymentCredential(headers: IncomingHttpHeaders): PaymentCredentialKind | undefined {
  const sent = PAYMENT_CREDENTIALS.filter(({ sent }) => sent(headers) !== undefined);
  if (sent.length > 1)
    throw new RestError(
      'BAD_REQUEST',
      `send one payment credential, not several: ${sent.map(({ header }) => header).join(', ')}`,
    );
  return sent[0]?.kind;
}
