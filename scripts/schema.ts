/**
 * schema/ holds what the code prints: each subgraph's SDL, the composed supergraph and its public
 * API schema. `print` and `compose` write them; `check` fails when the committed files differ.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  composeSupergraph,
  loadConfig,
  printSubgraphs,
  SUBGRAPHS,
  subgraphUrl,
  type SubgraphName,
} from '../lib';
import { subgraphs } from '../subgraphs';

const SCHEMA_DIR = join(__dirname, '..', '..', 'schema');

async function expectedFiles(): Promise<Record<string, string>> {
  const sdls = await printSubgraphs(subgraphs);
  // Committed with the launcher's default local URLs; the router overrides them from configuration.
  const defaults = loadConfig({});
  const urls = Object.fromEntries(SUBGRAPHS.map((name) => [name, subgraphUrl(defaults, name)])) as Record<
    SubgraphName,
    string
  >;
  const { supergraph, api } = composeSupergraph(sdls, urls);
  const files: Record<string, string> = { 'supergraph.graphql': supergraph, 'api.graphql': api };
  for (const name of SUBGRAPHS) files[`${name}.graphql`] = sdls[name];
  for (const file of Object.keys(files)) files[file] = files[file].trimEnd() + '\n';
  return files;
}

async function main(command: string | undefined): Promise<number> {
  const files = await expectedFiles();
  if (command === 'print' || command === 'compose') {
    for (const [file, content] of Object.entries(files)) await writeFile(join(SCHEMA_DIR, file), content);
    console.log(`wrote ${Object.keys(files).length} files to schema/`);
    return 0;
  }
  if (command === 'check') {
    const stale: string[] = [];
    for (const [file, content] of Object.entries(files)) {
      const committed = await readFile(join(SCHEMA_DIR, file), 'utf8').catch(() => '');
      if (committed !== content) stale.push(file);
    }
    if (stale.length) {
      console.error(`schema/ is out of date (${stale.join(', ')}): run npm run schema:compose and commit.`);
      return 1;
    }
    console.log('schema/ matches the code');
    return 0;
  }
  console.error('usage: schema.js print | compose | check');
  return 2;
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
