import type { IncomingHttpHeaders } from 'node:http';

/**
 * Which payment credential a request carries, read from its headers alone (nothing verified).
 * MPP's is `Authorization: Payment <base64url credential>` (the IETF "Payment" HTTP
 * authentication scheme; RFC 9110 lets one Authorization list several schemes, comma-separated).
 * A step that refuses a request carrying several payment credentials asks here which are present.
 */
export type PaymentCredentialKind = 'mpp';

const PAYMENT_SCHEME = /^Payment\s+\S/i;

/** The `Payment <credential>` scheme of the request's Authorization, or undefined. */
export function mppCredentialOf(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization !== 'string') return undefined;
  return authorization
    .split(',')
    .map((scheme) => scheme.trim())
    .find((scheme) => PAYMENT_SCHEME.test(scheme));
}

/** The payment credentials present in a request. */
export function paymentCredentialKinds(headers: IncomingHttpHeaders): PaymentCredentialKind[] {
  return mppCredentialOf(headers) === undefined ? [] : ['mpp'];
}
