import type { EmbeddedPostgres } from '../../lib/embedded-postgres';
import { endTestRun } from './database';

export default async function globalTeardown(): Promise<void> {
  await endTestRun();
  await (globalThis as { embeddedPostgres?: EmbeddedPostgres }).embeddedPostgres?.stop();
}
