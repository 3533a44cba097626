/** Hive Gateway with the Rust query planner (@graphql-hive/router-runtime): a peer of bench:router. */
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';
import { unifiedGraphHandler } from '@graphql-hive/router-runtime';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { benchPort, benchSupergraph, fixedIdentity } from './identity';

async function main() {
  const identity = fixedIdentity();
  const gateway = createGatewayRuntime({
    supergraph: await readFile(benchSupergraph(), 'utf8'),
    unifiedGraphHandler,
    logging: 'error',
    propagateHeaders: { fromClientToSubgraphs: () => ({ [identity.header]: identity.value() }) },
  });
  const server = createServer(gateway);
  server.listen(benchPort(), '127.0.0.1', () => process.stdout.write(`listening ${benchPort()}\n`));
}

main().catch((error: unknown) => {
  process.stderr.write(`hive gateway failed: ${String(error)}\n`);
  process.exit(1);
});
