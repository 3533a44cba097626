import { readFile, writeFile } from 'node:fs/promises';
import {
  composeSupergraph,
  createLogger,
  DEFAULT_SUBGRAPH_PORTS,
  openDatabase,
  printSubgraphs,
  SUBGRAPHS,
  type SubgraphName,
} from '../../lib';
import { subgraphs } from '../../subgraphs';
import { testDatabaseUrl, testRun, withAdmin } from './database';

/** The supergraph of the subgraphs' code as it is now, routing to the default local ports. */
async function composeFromCode(): Promise<string> {
  const defaults = Object.fromEntries(
    SUBGRAPHS.map((name) => [name, `http://127.0.0.1:${DEFAULT_SUBGRAPH_PORTS[name]}/graphql`]),
  ) as Record<SubgraphName, string>;
  return composeSupergraph(await printSubgraphs(subgraphs), defaults).supergraph;
}

/** Runs every subgraph's migrations on a database, as each subgraph does when it starts. */
async function migrate(url: string): Promise<void> {
  const log = createLogger('test-template', 'warn');
  for (const name of SUBGRAPHS) {
    const { entities, migrations } = subgraphs[name];
    const orm = await openDatabase({ url, schema: name, entities, migrations, poolMax: 2, log });
    await orm.close();
  }
}

/**
 * The supergraph, and the template database each test database is copied from (migrated already:
 * the subgraphs still run their migrator on start, which then finds nothing to do). The first file
 * of a run builds both, the others wait for it on an advisory lock; outside Jest, composed here.
 */
export async function preparedRun(): Promise<{ supergraph: string; template?: string }> {
  const run = testRun();
  if (!run) return { supergraph: await composeFromCode() };
  return withAdmin(async (client) => {
    // A session lock: released when this client ends, also when building failed.
    await client.query('select pg_advisory_lock(hashtext($1))', [run.template]);
    const built = await readFile(run.supergraphFile, 'utf8').catch(() => undefined);
    if (built !== undefined) return { supergraph: built, template: run.template };
    await client.query(`DROP DATABASE IF EXISTS ${run.template}`);
    await client.query(`CREATE DATABASE ${run.template}`);
    await migrate(testDatabaseUrl(run.template));
    const supergraph = await composeFromCode();
    // Written last: its presence says the template is complete.
    await writeFile(run.supergraphFile, supergraph);
    return { supergraph, template: run.template };
  });
}
