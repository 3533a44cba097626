import nodemailer, { type Transporter } from 'nodemailer';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  AppError,
  InvalidTokenError,
  loadConfig,
  signToken,
  updateReturning,
  verifyToken,
  type Logger,
} from '../../lib';
import { Account } from './account.entity';

/** Its own audience, so neither an access token nor any other signed token verifies an address. */
const VERIFY_AUDIENCE = 'agentry-email-verify';
/** One link a minute per account, so the platform cannot be used to flood an inbox. */
export const RESEND_INTERVAL_SECONDS = 60;

/**
 * A link proving the account holds `email`. The address travels in the token, so a link sent to an
 * address the account no longer has verifies nothing.
 */
export function verificationToken(account: Account, secret: string): string {
  const ttl = loadConfig().EMAIL_VERIFICATION_TTL_HOURS * 3600;
  return signToken({ sub: account.id, aud: VERIFY_AUDIENCE, email: account.email }, secret, ttl);
}

export function verificationLink(token: string): string {
  const config = loadConfig();
  const base = (config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).replace(/\/+$/, '');
  return `${base}${config.REST_MOUNT_AUTX}/auth/verify?token=${encodeURIComponent(token)}`;
}

/** One transport per SMTP_URL, reused (it pools nothing by default, but parses the URL once). */
const transports = new Map<string, Transporter>();

/** Sends the link over SMTP when SMTP_URL is set; otherwise logs it for the operator to pass on. */
export async function sendVerification(account: Account, secret: string, log: Logger): Promise<void> {
  const config = loadConfig();
  const link = verificationLink(verificationToken(account, secret));
  if (!config.SMTP_URL) {
    log.info({ accountId: account.id, link }, 'email verification link (SMTP_URL unset, not mailed)');
    return;
  }
  let transport = transports.get(config.SMTP_URL);
  if (!transport) transports.set(config.SMTP_URL, (transport = nodemailer.createTransport(config.SMTP_URL)));
  const hours = config.EMAIL_VERIFICATION_TTL_HOURS;
  await transport.sendMail({
    from: config.EMAIL_FROM,
    to: account.email,
    subject: 'Verify your email address',
    text: `Open this link to verify ${account.email} (valid ${hours} hours):\n\n${link}\n`,
  });
  log.info({ accountId: account.id }, 'email verification link sent');
}

/**
 * Claims the account's one send a minute with a conditional UPDATE, so concurrent requests send
 * one mail; false when a link went out less than a minute ago.
 */
export async function claimVerificationSend(em: EntityManager, accountId: string): Promise<boolean> {
  const [claimed] = await updateReturning(
    em,
    Account,
    { id: accountId, emailVerifiedAt: null },
    { verificationSentAt: new Date() },
    (query) =>
      query.andWhere(
        `("verification_sent_at" is null or "verification_sent_at" < now() - interval '${RESEND_INTERVAL_SECONDS} seconds')`,
      ),
  );
  return Boolean(claimed);
}

/** The account a link proves, marked verified (once; a second use answers the same account). */
export async function verifyEmailToken(em: EntityManager, token: string, secret: string): Promise<Account> {
  let claims;
  try {
    claims = verifyToken(token, secret, VERIFY_AUDIENCE);
  } catch (error) {
    if (error instanceof InvalidTokenError)
      throw new AppError('BAD_USER_INPUT', `verification link not valid: ${error.message}`, {
        field: 'token',
      });
    throw error;
  }
  const account = await em.findOne(Account, { id: claims.sub });
  if (!account || account.email !== claims.email)
    throw new AppError('BAD_USER_INPUT', 'verification link is for an address this account no longer has', {
      field: 'token',
    });
  await updateReturning(
    em,
    Account,
    { id: account.id, emailVerifiedAt: null },
    { emailVerifiedAt: new Date() },
  );
  return em.findOneOrFail(Account, { id: account.id }, { refresh: true });
}
