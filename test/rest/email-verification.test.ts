/**
 * E-mail verification (003's "verified email" routes): the link is mailed over SMTP to a local SMTP
 * server double, opening it verifies the address, and until then listing an agent, minting an API
 * key and claiming a deposit answer 403; forged, expired or outdated links are refused; the
 * operator's switch turns the requirement off; without SMTP_URL the link is logged.
 */
import pg from 'pg';
import { signToken } from '../../lib';
import { startSmtpDouble } from '../support/smtp-double';
import { startTestPlatform, type TestPlatform } from '../support/platform';
import { rest } from './support';

let t: TestPlatform;
let smtp: Awaited<ReturnType<typeof startSmtpDouble>>;
const saved = { ...process.env };

beforeAll(async () => {
  smtp = await startSmtpDouble();
  t = await startTestPlatform();
  Object.assign(process.env, {
    REQUIRE_VERIFIED_EMAIL: 'true',
    SMTP_URL: smtp.url,
    PUBLIC_URL: t.url,
    EMAIL_FROM: 'Agentry <verify@agentry.test>',
  });
});
afterAll(async () => {
  for (const key of ['REQUIRE_VERIFIED_EMAIL', 'SMTP_URL', 'PUBLIC_URL', 'EMAIL_FROM'])
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  await t.close();
  await smtp.close();
});

const anonymous = () => rest(t);
let registered = 0;

/** Signs up over AUTX and returns the caller, its address and the link mailed to it. */
async function signUp() {
  const email = `verify${++registered}@example.com`;
  const { status, body } = await anonymous()('POST', '/autx/v1/auth/register', {
    body: { email, password: 'a long passphrase' },
  });
  expect(status).toBe(201);
  const mail = await smtp.mailTo(email);
  const link = /https?:\/\/\S+\/auth\/verify\?token=\S+/.exec(mail.text)?.[0];
  if (!link) throw new Error(`no link in ${mail.text}`);
  return { email, id: body.user.id as string, api: rest(t, body.access_token), link, mail };
}

const tokenOf = (link: string) => new URL(link).searchParams.get('token')!;

async function sql(text: string, values: unknown[]) {
  const client = new pg.Client({ connectionString: t.databaseUrl });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

const AGENT = { name: 'Verified Agent', service_price: '0.10' };

test('sign-up mails a link; the verified-email routes answer 403 until it is opened, then work', async () => {
  const user = await signUp();
  expect(user.mail.from).toContain('verify@agentry.test');
  expect(user.mail.subject).toMatch(/verify/i);
  expect(user.link.startsWith(`${t.url}/autx/v1/auth/verify?token=`)).toBe(true);

  expect((await user.api('GET', '/autx/v1/auth/me')).body).toMatchObject({ email_verified: false });
  const refusals = [
    await user.api('POST', '/autx/v1/agents/', { body: { ...AGENT, ticker: 'UNVER' } }),
    await user.api('POST', '/autx/v1/api-keys/', { body: { name: 'ci', scopes: 'proxy' } }),
    await user.api('POST', '/autx/v1/credits/deposit', { body: { tx_hash: `0x${'ab'.repeat(32)}` } }),
  ];
  for (const refused of refusals) {
    expect(refused.status).toBe(403);
    expect(refused.body.detail).toMatch(/verify your email address/);
  }
  // x402's listing is the same capability, refused in its own format.
  const x402 = await user.api('POST', '/x402/v1/agents', {
    body: { name: 'x', rate: 0.1, wallet: '7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU' },
  });
  expect(x402.status).toBe(403);
  expect(x402.body).toMatchObject({ error: expect.stringMatching(/verify your email/) });
  // Nothing was listed.
  const listed = await anonymous()('GET', '/autx/v1/agents/?sort=new');
  expect(listed.body.map((a: { ticker: string }) => a.ticker)).not.toContain('UNVER');

  // The link, as mailed, is opened anonymously (a browser holding nothing but the link).
  const opened = await fetch(user.link);
  expect(opened.status).toBe(200);
  expect(await opened.json()).toEqual({ id: user.id, email: user.email, email_verified: true });
  // A second click answers the same.
  expect((await fetch(user.link)).status).toBe(200);

  expect((await user.api('GET', '/autx/v1/auth/me')).body).toMatchObject({ email_verified: true });
  const created = await user.api('POST', '/autx/v1/agents/', { body: { ...AGENT, ticker: 'VERIF' } });
  expect(created.status).toBe(201);
  expect(
    (await user.api('POST', '/autx/v1/api-keys/', { body: { name: 'ci', scopes: 'proxy' } })).status,
  ).toBe(201);
  const again = await user.api('POST', '/autx/v1/auth/verify/resend');
  expect(again.status).toBe(409);
});

test('a tampered, expired, foreign-purpose or outdated link is refused and verifies nothing', async () => {
  const user = await signUp();
  const token = tokenOf(user.link);
  const [header, payload, signature] = token.split('.');
  const forgedPayload = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'acc_other' }),
  ).toString('base64url');
  const flipped = signature[0] === 'A' ? 'B' + signature.slice(1) : 'A' + signature.slice(1);
  const secret = t.secrets.jwt;
  const claims = { sub: user.id, email: user.email };
  const bad = [
    `${header}.${payload}.${flipped}`,
    `${header}.${forgedPayload}.${signature}`,
    signToken({ ...claims, aud: 'agentry-email-verify' }, secret, -60), // expired
    signToken({ ...claims, aud: 'agentry-api' }, secret, 600), // an access token's audience
    signToken({ ...claims, aud: 'agentry-email-verify' }, 'x'.repeat(40), 600), // another secret
  ];
  for (const forged of bad) {
    const answer = await anonymous()('GET', `/autx/v1/auth/verify?token=${encodeURIComponent(forged)}`);
    expect(answer.status).toBe(422);
    expect(answer.body.detail).toMatch(/verification link/);
  }
  expect((await anonymous()('GET', '/autx/v1/auth/verify')).status).toBe(422);

  // The address changes after the link was sent: the link no longer proves anything.
  await sql('update accounts.account set email = $1 where id = $2', [`changed-${user.email}`, user.id]);
  const outdated = await fetch(user.link);
  expect(outdated.status).toBe(422);
  expect((await outdated.json()).detail).toMatch(/no longer has/);
  expect((await user.api('GET', '/autx/v1/auth/me')).body).toMatchObject({ email_verified: false });
});

test('resend: one a minute (429), then a new link that works; without SMTP_URL the link is logged', async () => {
  const user = await signUp();
  const soon = await user.api('POST', '/autx/v1/auth/verify/resend');
  expect(soon.status).toBe(429);
  expect(soon.body.detail).toMatch(/less than 60 seconds/);

  await sql(
    `update accounts.account set verification_sent_at = now() - interval '61 seconds' where id = $1`,
    [user.id],
  );
  const resent = await user.api('POST', '/autx/v1/auth/verify/resend');
  expect(resent.status).toBe(200);
  expect(resent.body).toEqual({ sent: true, email: user.email, email_verified: false });
  const second = await smtp.mailTo(user.email, 1);
  const link = /https?:\/\/\S+\/auth\/verify\?token=\S+/.exec(second.text)![0];
  expect((await fetch(link)).status).toBe(200);

  // No mail server: the link goes to the log for the operator.
  const other = await signUp();
  await sql(`update accounts.account set verification_sent_at = null where id = $1`, [other.id]);
  delete process.env.SMTP_URL;
  try {
    expect((await other.api('POST', '/autx/v1/auth/verify/resend')).status).toBe(200);
    const line = t.logs.find((l) => l.accountId === other.id && typeof l.link === 'string');
    expect(line).toBeDefined();
    expect((await fetch(line!.link as string)).status).toBe(200);
  } finally {
    process.env.SMTP_URL = smtp.url;
  }
  expect((await other.api('GET', '/autx/v1/auth/me')).body).toMatchObject({ email_verified: true });
});

test('REQUIRE_VERIFIED_EMAIL=false lets an unverified account use the verified-email routes', async () => {
  const user = await signUp();
  process.env.REQUIRE_VERIFIED_EMAIL = 'false';
  try {
    const created = await user.api('POST', '/autx/v1/agents/', { body: { ...AGENT, ticker: 'OPEN' } });
    expect(created.status).toBe(201);
  } finally {
    process.env.REQUIRE_VERIFIED_EMAIL = 'true';
  }
  const refused = await user.api('POST', '/autx/v1/agents/', { body: { ...AGENT, ticker: 'OPEN2' } });
  expect(refused.status).toBe(403);
});
