/**
 * MPP, the Machine Payments Protocol (README "MPP (Machine Payments Protocol)"), through the
 * official `mppx` library: the IETF "Payment" HTTP authentication scheme. A dialect row that
 * needs a credential, asked without one, answers 402 with a `WWW-Authenticate: Payment`
 * challenge; a retry with `Authorization: Payment <credential>` is verified by mppx (HMAC-bound
 * challenge, expiry, route scope, amount) and charged by the one method offered here,
 * `agentry-credits`: the credential names a platform account by an API key or access token,
 * whose USD credits the wallet holds for the price. The row then runs as that account; its
 * success posts the hold and carries `Payment-Receipt`, its failure voids the hold.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AppError,
  createPeers,
  hasScope,
  LEDGER_HOLD,
  LEDGER_POST,
  LEDGER_VOID,
  sha256,
  type Identity,
  type Logger,
  type PeerUrls,
} from '../../lib';
import type { EdgeVerdict } from './engine';
import { mppCredentialOf } from './payments';

type Core = typeof import('mppx', { with: { 'resolution-mode': 'import' } });
type Server = typeof import('mppx/server', { with: { 'resolution-mode': 'import' } });

export const CREDITS_METHOD = 'agentry-credits';
/** Credits are micro-USD: the wallet's USD asset has 6 decimals. */
const CREDITS_ASSET = 'USD';
const CREDITS_DECIMALS = 6;
/** Longer than any request; a router stopped between hold and post leaves the hold to the wallet's sweeper. */
const HOLD_TIMEOUT_SECONDS = 3600;
const REALM = 'agentry';

/** mppx is ESM-only: loaded once, on first use, with the credits method built from its `Method`. */
async function load() {
  const core: Core = await import('mppx');
  const { Method, z } = core;
  const credits = Method.from({
    name: CREDITS_METHOD,
    intent: 'charge',
    schema: {
      credential: {
        // An API key (`agx_…`) or an access token of the paying account.
        payload: z.object({ key: z.string().check(z.minLength(1), z.maxLength(4096)) }),
      },
      request: z.object({ amount: z.string(), currency: z.string(), decimals: z.number() }),
    },
  });
  return { core, credits };
}
let loaded: ReturnType<typeof load> | undefined;
const mppx = () => (loaded ??= load());

/** The credits method's client half, for an `mppx/client` `Mppx.create`: pays as the account of `key`. */
export async function creditsClient(key: string) {
  const { core, credits } = await mppx();
  return core.Method.toClient(credits, {
    createCredential: async ({ challenge }) => core.Credential.serialize({ challenge, payload: { key } }),
  });
}

/** The key or token inside a request's Payment credential, which the edge resolves like a Bearer one. */
export async function payerKeyOf(req: IncomingMessage): Promise<string | undefined> {
  const scheme = mppCredentialOf(req.headers);
  if (!scheme) return undefined;
  const { core } = await mppx();
  try {
    const { payload } = core.Credential.deserialize<{ key?: unknown }>(scheme);
    return typeof payload?.key === 'string' && payload.key ? payload.key : undefined;
  } catch {
    return undefined; // mppx answers the malformed credential with its problem when the row is paid
  }
}

export interface MppOptions {
  priceMicroUsd: number;
  /** The router's internal secret; the challenges' HMAC key derives from it, so every replica agrees. */
  secret: string;
  subgraphUrls: PeerUrls;
  /** The account a key or access token names (the edge's cached resolution), if it verifies. */
  payerOf(key: string): Promise<Identity | undefined>;
  log: Logger;
}

/** A verified payment whose hold waits for the row's outcome. */
export interface Payment {
  /** The edge's verdict for the payer's account, with which the row runs. */
  edge: EdgeVerdict;
  /** Posts the hold when the row succeeded, else voids it and drops the receipt; once. */
  settle(succeeded: boolean): Promise<void>;
}

export type PaymentGate = ReturnType<typeof createPaymentGate>;

export function createPaymentGate(options: MppOptions) {
  const peers = createPeers('router', options.subgraphUrls, options.secret);
  const secretKey = sha256(`mpp-challenges:${options.secret}`);
  const amount = String(options.priceMicroUsd);

  async function create() {
    const { core, credits } = await mppx();
    const { Mppx }: Server = await import('mppx/server');
    const { Errors } = core;
    const method = core.Method.toServer(credits, {
      // The terminal step: hold the price from the payer. The hold id derives from the challenge
      // id, and its memo names this attempt: a replayed credential meets the first attempt's hold
      // under the same id with another memo, which the ledger refuses (CONFLICT), charging nothing.
      async broadcast({ credential, request }) {
        const payer = await options.payerOf(credential.payload.key);
        if (!payer) throw new Errors.VerificationFailedError({ reason: 'the key or token is not valid' });
        if (!hasScope(payer, 'wallet'))
          throw new Errors.VerificationFailedError({ reason: 'the key lacks the wallet scope to pay' });
        const holdId = `mpp.${credential.challenge.id}`;
        try {
          await peers.request('wallet', LEDGER_HOLD, {
            input: {
              id: holdId,
              from: { accountId: payer.accountId },
              to: { system: 'PLATFORM_REVENUE' },
              asset: CREDITS_ASSET,
              amountMinor: request.amount,
              timeoutSeconds: HOLD_TIMEOUT_SECONDS,
              memo: `MPP charge, attempt ${randomUUID()}`,
            },
          });
        } catch (error) {
          const code = error instanceof AppError ? error.extensions.code : undefined;
          if (code === 'CONFLICT')
            throw new Errors.InvalidChallengeError({
              id: credential.challenge.id,
              reason: 'its credential was already used',
            });
          if (code === 'PAYMENT_REQUIRED')
            throw new Errors.VerificationFailedError({
              reason: `insufficient credits for ${request.amount} micro-USD`,
            });
          options.log.warn({ err: error }, 'MPP: the wallet did not hold the price');
          throw new Errors.VerificationFailedError({ reason: 'the wallet is unavailable; retry later' });
        }
        return {
          method: CREDITS_METHOD,
          reference: holdId,
          status: 'success',
          timestamp: new Date().toISOString(),
        };
      },
    });
    return Mppx.create({ methods: [method], realm: REALM, secretKey });
  }
  let server: ReturnType<typeof create> | undefined;

  /**
   * A Fetch request carrying what mppx reads: the method and the Payment credential. The route is
   * bound by `scope` and the realm is fixed, so no client-sent URL or Host is parsed here.
   */
  function fetchRequest(req: IncomingMessage): Request {
    const headers = new Headers();
    const scheme = mppCredentialOf(req.headers);
    if (scheme) headers.set('authorization', scheme);
    return new Request(`http://${REALM}.invalid/`, { method: req.method, headers });
  }

  async function write(res: ServerResponse, response: Response): Promise<void> {
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status;
    res.end(Buffer.from(await response.arrayBuffer()));
  }

  function settlement(res: ServerResponse, holdId: string) {
    let settled = false;
    return async (succeeded: boolean) => {
      if (settled) return;
      settled = true;
      if (succeeded) {
        await peers.request('wallet', LEDGER_POST, { input: { id: `${holdId}.post`, pendingId: holdId } });
        return;
      }
      if (!res.headersSent) res.removeHeader('payment-receipt');
      // A void that fails leaves the hold to expire back to the payer.
      await peers
        .request('wallet', LEDGER_VOID, { input: { id: `${holdId}.void`, pendingId: holdId } })
        .catch((error: unknown) => options.log.warn({ err: error, holdId }, 'MPP: void failed'));
    };
  }

  return {
    /**
     * For a row that needs a credential: undefined when a key or token decides (no payment), the
     * string 'answered' when a 402 (challenge or problem with a fresh challenge) was written, else
     * the verified payment. `scope` binds a challenge to its route.
     */
    async open(
      req: IncomingMessage,
      res: ServerResponse,
      scope: string,
      edge: EdgeVerdict,
    ): Promise<Payment | 'answered' | undefined> {
      if (!edge.payer && edge.credential !== 'none') return undefined;
      const handler = (await (server ??= create())).charge({
        amount,
        currency: 'usd',
        decimals: CREDITS_DECIMALS,
        scope,
        description: `${scope}, paid from USD credits`,
      });
      const result = await handler(fetchRequest(req));
      if (result.status === 402) {
        await write(res, result.challenge);
        return 'answered';
      }
      const receipt = result.withReceipt(new Response(null));
      for (const [name, value] of receipt.headers) res.setHeader(name, value);
      const { Receipt } = (await mppx()).core;
      const holdId = Receipt.deserialize(receipt.headers.get('payment-receipt')!).reference;
      return {
        edge: { ...edge, headers: edge.payer?.headers, credential: edge.payer?.credential ?? 'none' },
        settle: settlement(res, holdId),
      };
    },
  };
}
