import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, randomSecret, type Config } from '../lib';
import type { Secrets } from '../router/gateway';

/**
 * The signing secrets. Configured ones win; the all-in-one launcher otherwise generates them once
 * and keeps them in DATA_DIR, so sign-ins survive a restart. Services started alone must share
 * them, so there they are required.
 */
export async function resolveSecrets(config: Config, generate: boolean): Promise<Secrets> {
  if (config.JWT_SECRET && config.INTERNAL_SECRET)
    return { jwt: config.JWT_SECRET, internal: config.INTERNAL_SECRET };
  if (!generate) {
    const missing = ['JWT_SECRET', 'INTERNAL_SECRET'].filter((name) => !config[name as keyof Config]);
    throw new ConfigError(
      `Invalid configuration:\n${missing.map((name) => `  ${name}: required when a service runs alone`).join('\n')}`,
    );
  }
  const file = join(config.DATA_DIR, 'secrets.json');
  let stored: Partial<Secrets> = {};
  if (existsSync(file)) stored = JSON.parse(await readFile(file, 'utf8'));
  const secrets: Secrets = {
    jwt: config.JWT_SECRET ?? stored.jwt ?? randomSecret(),
    internal: config.INTERNAL_SECRET ?? stored.internal ?? randomSecret(),
  };
  if (secrets.jwt !== stored.jwt || secrets.internal !== stored.internal) {
    await mkdir(config.DATA_DIR, { recursive: true });
    await writeFile(file, JSON.stringify(secrets), { mode: 0o600 });
  }
  return secrets;
}
