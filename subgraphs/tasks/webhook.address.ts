import {
  badInput,
  loadConfig,
  NonPublicAddressError,
  parseAddressAllowlist,
  resolvePublicHost,
  type ResolvedAddress,
  type ResolveHost,
} from '../../lib';

export type { ResolvedAddress };

/**
 * Where a webhook may be delivered: a public address, or one `WEBHOOK_ALLOWLIST` names (read on
 * each use, so an operator's change applies to deliveries already queued).
 */
export function resolveWebhookHost(url: URL, resolve?: ResolveHost): Promise<ResolvedAddress> {
  return resolvePublicHost(url, parseAddressAllowlist(loadConfig().WEBHOOK_ALLOWLIST), resolve);
}

const MAX_URL_LENGTH = 2048;

/** A webhook URL fit to register: http(s), no credentials, and a host that resolves publicly. */
export async function validateWebhookUrl(text: string): Promise<string> {
  const value = text.trim();
  if (value.length > MAX_URL_LENGTH || !URL.canParse(value))
    throw badInput('url is not a valid URL', { argument: 'url' });
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw badInput('url must start with http: or https:', { argument: 'url' });
  if (url.username || url.password) throw badInput('url must not carry credentials', { argument: 'url' });
  try {
    await resolveWebhookHost(url);
  } catch (error) {
    if (error instanceof NonPublicAddressError)
      throw badInput(`url refused: ${error.message}`, { argument: 'url' });
    throw error;
  }
  return url.toString();
}
