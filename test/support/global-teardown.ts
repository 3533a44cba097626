import type { EmbeddedPostgres } from '../../lib';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { embeddedPostgres?: EmbeddedPostgres }).embeddedPostgres?.stop();
}
