/**
 * x402 v2 through the official packages: the resource-server half of `@x402/core` (requirements,
 * matching, the facilitator's verify and settle over HTTP) with the `exact` EVM scheme of
 * `@x402/evm` (an EIP-3009 USDC authorization). The platform never holds a key: the facilitator at
 * X402_FACILITATOR_URL checks the signature and moves the USDC to X402_PAY_TO.
 */
import { createHash } from 'node:crypto';
import {
  decodePaymentSignatureHeader,
  encodePaymentRequiredHeader,
  encodePaymentResponseHeader,
} from '@x402/core/http';
import { PaymentPayloadV2Schema } from '@x402/core/schemas';
import { HTTPFacilitatorClient, x402ResourceServer } from '@x402/core/server';
import type { PaymentPayload, PaymentRequirements, SettleResponse } from '@x402/core/types';
import { ExactEvmScheme } from '@x402/evm/exact/server';
import { AppError, badInput, loadConfig, type Config } from '../../lib';

/** The asset x402 v2 pays in: USDC, 6 decimals like the ledger's USDC. */
export const X402_ASSET = 'USDC';

/** How long a signed authorization stays valid: the client's EIP-3009 validBefore is now + this. */
const MAX_TIMEOUT_SECONDS = 300;

export const HEADER = 'PAYMENT-SIGNATURE';

const EVM_TRANSACTION = /^0x[0-9a-fA-F]{64}$/;

/** What the hire pays for, named in the 402's `resource`. */
export interface X402Resource {
  url: string;
  description: string;
}

type RailConfig = Pick<
  Config,
  | 'X402_FACILITATOR_URL'
  | 'X402_PAY_TO'
  | 'X402_NETWORK'
  | 'X402_ASSET'
  | 'X402_ASSET_NAME'
  | 'X402_ASSET_VERSION'
>;

const unavailable = (what: string) =>
  new AppError('UPSTREAM_UNAVAILABLE', `the x402 facilitator ${what}; try again later`);

/** One initialized resource server per configuration (its GET /supported is asked once). */
let cached: { key: string; server: Promise<x402ResourceServer> } | undefined;

function resourceServer(config: RailConfig): Promise<x402ResourceServer> {
  const key = `${config.X402_FACILITATOR_URL} ${config.X402_NETWORK}`;
  if (cached?.key === key) return cached.server;
  const client = new HTTPFacilitatorClient({ url: config.X402_FACILITATOR_URL, timeoutMs: 15_000 });
  const server = new x402ResourceServer(client).register(
    config.X402_NETWORK as `${string}:${string}`,
    new ExactEvmScheme(),
  );
  const ready = server.initialize().then(
    () => server,
    () => {
      cached = undefined; // a facilitator that was down is asked again next time
      throw unavailable('did not answer GET /supported');
    },
  );
  cached = { key, server: ready };
  return ready;
}

/** The configured rail, or undefined when x402 v2 is off here. */
export function x402Rail(): RailConfig | undefined {
  const config = loadConfig();
  return config.X402_FACILITATOR_URL && config.X402_PAY_TO ? config : undefined;
}

function requiredRail(): RailConfig {
  const rail = x402Rail();
  if (!rail) throw new AppError('UPSTREAM_UNAVAILABLE', 'x402 payments are not configured on this platform');
  return rail;
}

/** The one requirement a price makes: exact, on the configured network, the asset's minor units. */
async function requirementsFor(amountMinor: bigint): Promise<{
  server: x402ResourceServer;
  requirements: PaymentRequirements;
}> {
  const rail = requiredRail();
  const server = await resourceServer(rail);
  const [requirements] = await server.buildPaymentRequirements({
    scheme: 'exact',
    network: rail.X402_NETWORK as `${string}:${string}`,
    payTo: rail.X402_PAY_TO!,
    maxTimeoutSeconds: MAX_TIMEOUT_SECONDS,
    price: {
      amount: amountMinor.toString(),
      asset: rail.X402_ASSET,
      extra: { name: rail.X402_ASSET_NAME, version: rail.X402_ASSET_VERSION },
    },
  });
  if (!requirements) throw unavailable(`does not support exact payments on ${rail.X402_NETWORK}`);
  return { server, requirements };
}

/** The `PAYMENT-REQUIRED` header (base64 JSON PaymentRequired, x402Version 2) for a price. */
export async function x402Terms(amountMinor: bigint, resource: X402Resource, error?: string) {
  const { server, requirements } = await requirementsFor(amountMinor);
  const paymentRequired = await server.createPaymentRequiredResponse([requirements], resource, error);
  return encodePaymentRequiredHeader(paymentRequired);
}

/** A `PAYMENT-SIGNATURE` header as an x402 v2 payload, or a 400 naming the header. */
export function parsePaymentSignature(header: string): PaymentPayload {
  let decoded: unknown;
  try {
    decoded = decodePaymentSignatureHeader(header);
  } catch {
    throw badInput(`${HEADER} must be base64-encoded JSON`, { field: HEADER });
  }
  const parsed = PaymentPayloadV2Schema.safeParse(decoded);
  if (!parsed.success) throw badInput(`${HEADER} is not an x402 v2 payment payload`, { field: HEADER });
  return parsed.data as PaymentPayload;
}

/**
 * A payment's identity before it settles: the digest of its signed part (for `exact` EVM, the
 * EIP-3009 authorization with its nonce and the signature), so one signed payment credits once.
 */
export function paymentIdOf(payload: PaymentPayload): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([payload.accepted.network, payload.accepted.asset, payload.payload]))
    .digest('hex');
  return `x402_${digest.slice(0, 56)}`;
}

const refused = (message: string) => new AppError('PAYMENT_REQUIRED', message, { field: HEADER });

/** A facilitator's refusal carries its answer (`VerifyError` / `SettleError`); anything else is it being down. */
const answerOf = (error: unknown): { invalidReason?: string; errorReason?: string } | undefined =>
  (error as { response?: { invalidReason?: string; errorReason?: string } })?.response;

/**
 * Verifies and settles a payment for exactly `amountMinor`: the payload must accept the terms this
 * price makes (a tampered amount, payee or asset does not match: 402), the facilitator must find it
 * valid and settle it. Answers the facilitator's settlement.
 */
export async function settleX402(payload: PaymentPayload, amountMinor: bigint): Promise<SettleResponse> {
  const { server, requirements } = await requirementsFor(amountMinor);
  if (!server.findMatchingRequirements([requirements], payload))
    throw refused(`the payment does not accept the terms of this hire (${amountMinor} ${X402_ASSET} units)`);
  let verified;
  try {
    verified = await server.verifyPayment(payload, requirements);
  } catch (error) {
    const answer = answerOf(error);
    if (answer) throw refused(`the facilitator refused the payment: ${answer.invalidReason ?? 'invalid'}`);
    throw unavailable('did not verify the payment');
  }
  if (!verified.isValid)
    throw refused(`the facilitator refused the payment: ${verified.invalidReason ?? 'invalid'}`);
  let settled: SettleResponse;
  try {
    settled = await server.settlePayment(payload, requirements);
  } catch (error) {
    const answer = answerOf(error);
    if (answer)
      throw refused(`the facilitator did not settle the payment: ${answer.errorReason ?? 'failed'}`);
    throw unavailable('did not settle the payment');
  }
  if (!settled.success || !settled.transaction)
    throw refused(`the facilitator did not settle the payment: ${settled.errorReason ?? 'failed'}`);
  if (!EVM_TRANSACTION.test(settled.transaction)) throw unavailable('answered no EVM transaction');
  return settled;
}

/** The `PAYMENT-RESPONSE` header of a settlement. */
export const paymentResponseHeader = (settled: SettleResponse) => encodePaymentResponseHeader(settled);
