import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createLogger, randomSecret, type SubgraphName } from '../lib';
import { startProcesses } from '../launcher/processes';
import { createTestDatabase } from '../test/support/platform';

/**
 * The platform as `npm start` runs it (launcher/processes.ts): the router in a process of its own,
 * the six subgraphs spread over the other cores, on a fresh database of the test server. The
 * workers read their settings from this process's environment, `env` on top; Redis is left out,
 * as the default start has none (pub/sub on PostgreSQL LISTEN/NOTIFY, rate limits in memory).
 * `keep` names a database kept across runs (a large generated dataset) instead of a fresh one.
 */
export async function startAsNpmStart(env: Record<string, string> = {}, { keep }: { keep?: string } = {}) {
  delete process.env.REDIS_URL;
  Object.assign(process.env, {
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '1000000', // on, but high enough never to refuse the load
    REQUIRE_VERIFIED_EMAIL: 'false',
    ...env,
  });
  const database = await createTestDatabase(keep);
  const secrets = { jwt: randomSecret(), internal: randomSecret() };
  const processes = await startProcesses({
    databaseUrl: database.url,
    secrets,
    firstAdmin: false,
    log: createLogger('bench', 'warn'),
    onCrash: (label) => console.error(`${label} died`),
  });
  return {
    ...processes,
    secrets,
    databaseUrl: database.url,
    graphqlUrl: `${processes.routerUrl}/graphql`,
    wsUrl: `${processes.routerUrl.replace(/^http/, 'ws')}/graphql`,
    subgraphUrls: processes.subgraphUrls as Record<SubgraphName, string>,
    close: async () => {
      await processes.close();
      await database.drop();
    },
  };
}

/** Resident memory of a process, in KiB (Linux /proc). */
export function rssKiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

/** CPU time a process has used so far, in seconds (user + system; Linux /proc, 100 ticks a second). */
export function cpuSeconds(pid: number): number {
  // The fields after the command name, which is in parentheses and may hold spaces.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Everything from this line on in a results file is kept when the benchmark rewrites it. */
export const NOTES_MARKER = '<!-- Notes below are written by hand and kept across runs. -->';

/** Ends the hand-written notes when the benchmark writes more (e.g. query plans) after them. */
const NOTES_END = '<!-- End of the notes written by hand. -->';

/**
 * Writes a results file: the benchmark's figures, then the notes a person wrote in the previous
 * file (from NOTES_MARKER to NOTES_END or the end), then `appendix` (long output such as plans).
 */
export async function writeResults(file: string, markdown: string, appendix = ''): Promise<void> {
  const notes = await readFile(file, 'utf8').then(
    (text) => {
      const from = text.indexOf(NOTES_MARKER);
      if (from < 0) return '';
      const to = text.indexOf(NOTES_END, from);
      return text.slice(from, to < 0 ? undefined : to).trimEnd();
    },
    () => '',
  );
  let output =
    [markdown.trimEnd(), notes || NOTES_MARKER, ...(appendix ? [NOTES_END, appendix.trim()] : [])].join(
      '\n\n',
    ) + '\n';
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const prettier = require('prettier') as typeof import('prettier');
    output = await prettier.format(output, { ...(await prettier.resolveConfig(file)), filepath: file });
  } catch (error) {
    console.warn('results not formatted with prettier:', error);
  }
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, output);
  console.log(`results written to ${file}`);
}
