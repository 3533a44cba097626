import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as Viem from 'viem' with { 'resolution-mode': 'import' };

// viem's types are ES modules; its runtime ships CommonJS (see subgraphs/wallet/deposits/evm.ts).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const viem = require('viem') as typeof Viem;

/** EIP-3009's typed data, as USDC's transferWithAuthorization checks it. */
const AUTHORIZATION_TYPES = {
  TransferWithAuthorization: [
    { name: 'from', type: 'address' },
    { name: 'to', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'validAfter', type: 'uint256' },
    { name: 'validBefore', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
  ],
} as const;

interface Requirements {
  scheme: string;
  network: string;
  amount: string;
  asset: string;
  payTo: string;
  extra?: { name?: string; version?: string };
}
interface Authorization {
  from: string;
  to: string;
  value: string;
  validAfter: string;
  validBefore: string;
  nonce: string;
}
interface Payload {
  x402Version: number;
  accepted: Requirements;
  payload: { signature?: string; authorization?: Authorization };
}

export interface FacilitatorCall {
  path: string;
  payer?: string;
  nonce?: string;
}

/**
 * An x402 v2 facilitator for the `exact` EVM scheme (EIP-3009), over HTTP as the protocol has it:
 * `GET /supported`, `POST /verify` and `POST /settle` with `{x402Version, paymentPayload,
 * paymentRequirements}`. It checks what a real one checks before moving USDC: the payload accepted
 * these requirements, the authorization pays exactly the amount to the payee within its validity
 * window, its signature recovers to `from` over the token's EIP-712 domain, and its nonce was never
 * settled. Settling answers a fresh transaction hash; no chain is involved.
 */
export async function startFacilitatorDouble(options: { network: string; settleDelayMs?: number }) {
  const calls: FacilitatorCall[] = [];
  const settledNonces = new Set<string>();
  const settings = { settleDelayMs: options.settleDelayMs ?? 0 };

  async function check(body: { paymentPayload?: Payload; paymentRequirements?: Requirements }) {
    const payload = body.paymentPayload;
    const requirements = body.paymentRequirements;
    const authorization = payload?.payload?.authorization;
    const signature = payload?.payload?.signature;
    const payer = authorization?.from;
    const invalid = (reason: string) => ({ isValid: false, invalidReason: reason, payer });
    if (!payload || !requirements || payload.x402Version !== 2) return invalid('invalid_x402_version');
    if (requirements.scheme !== 'exact' || payload.accepted?.scheme !== 'exact')
      return invalid('unsupported_scheme');
    if (requirements.network !== options.network || payload.accepted.network !== options.network)
      return invalid('invalid_network');
    for (const field of ['amount', 'asset', 'payTo'] as const)
      if (String(payload.accepted[field]).toLowerCase() !== String(requirements[field]).toLowerCase())
        return invalid(`accepted_${field}_mismatch`);
    if (!authorization || !signature || !viem.isAddress(authorization.from))
      return invalid('invalid_exact_evm_payload');
    if (
      !viem.isAddress(authorization.to) ||
      !viem.isAddressEqual(authorization.to, requirements.payTo as Viem.Address)
    )
      return invalid('invalid_exact_evm_payload_recipient_mismatch');
    if (authorization.value !== requirements.amount)
      return invalid('invalid_exact_evm_payload_authorization_value');
    const now = BigInt(Math.floor(Date.now() / 1000));
    if (BigInt(authorization.validBefore) < now + 6n)
      return invalid('invalid_exact_evm_payload_authorization_valid_before');
    if (BigInt(authorization.validAfter) > now)
      return invalid('invalid_exact_evm_payload_authorization_valid_after');
    if (settledNonces.has(`${authorization.from.toLowerCase()} ${authorization.nonce}`))
      return invalid('invalid_exact_evm_payload_authorization_nonce_used');
    const chainId = Number(options.network.split(':')[1]);
    const valid = await viem
      .verifyTypedData({
        address: authorization.from as Viem.Address,
        domain: {
          name: requirements.extra?.name,
          version: requirements.extra?.version,
          chainId,
          verifyingContract: requirements.asset as Viem.Address,
        },
        types: AUTHORIZATION_TYPES,
        primaryType: 'TransferWithAuthorization',
        message: {
          from: authorization.from as Viem.Address,
          to: authorization.to as Viem.Address,
          value: BigInt(authorization.value),
          validAfter: BigInt(authorization.validAfter),
          validBefore: BigInt(authorization.validBefore),
          nonce: authorization.nonce as Viem.Hex,
        },
        signature: signature as Viem.Hex,
      })
      .catch(() => false);
    if (!valid) return invalid('invalid_exact_evm_payload_signature');
    return { isValid: true, invalidReason: undefined, payer };
  }

  const readJson = async (req: IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, never>;
  };

  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    void (async () => {
      const authorization = (body: { paymentPayload?: Payload }) =>
        body.paymentPayload?.payload?.authorization;
      if (req.method === 'GET' && req.url === '/supported') {
        calls.push({ path: '/supported' });
        return send(200, {
          kinds: [{ x402Version: 2, scheme: 'exact', network: options.network }],
          extensions: [],
          signers: { 'eip155:*': ['0x00000000000000000000000000000000000f4c11'] },
        });
      }
      if (req.method !== 'POST' || (req.url !== '/verify' && req.url !== '/settle')) return send(404, {});
      const body = await readJson(req).catch(() => undefined);
      if (!body) return send(400, { error: 'not JSON' });
      const auth = authorization(body);
      calls.push({ path: req.url, payer: auth?.from, nonce: auth?.nonce });
      const verdict = await check(body);
      if (req.url === '/verify') return send(200, verdict);
      if (settings.settleDelayMs) await new Promise((resolve) => setTimeout(resolve, settings.settleDelayMs));
      // Checked again: a nonce settled meanwhile is refused, as the token contract would.
      const again = await check(body);
      if (!again.isValid)
        return send(200, {
          success: false,
          errorReason: again.invalidReason,
          transaction: '',
          network: options.network,
          payer: again.payer,
        });
      settledNonces.add(`${auth!.from.toLowerCase()} ${auth!.nonce}`);
      send(200, {
        success: true,
        transaction: `0x${randomBytes(32).toString('hex')}`,
        network: options.network,
        payer: auth!.from,
        amount: body.paymentRequirements?.['amount'],
      });
    })().catch((error: Error) => send(500, { error: error.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    settings,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type FacilitatorDouble = Awaited<ReturnType<typeof startFacilitatorDouble>>;
