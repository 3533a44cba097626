/** Apollo Gateway 2 on Apollo Server 5, the platform's supergraph and subgraphs: a peer of bench:router. */
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { readFile } from 'node:fs/promises';
import { benchPort, benchSupergraph, fixedIdentity } from './identity';

async function main() {
  const identity = fixedIdentity();
  const gateway = new ApolloGateway({
    // Apollo's open gateway refuses the @authenticated / @requiresScopes features (an enterprise
    // feature there); it enforces nothing here anyway, so they are loaded as plain directives.
    supergraphSdl: (await readFile(benchSupergraph(), 'utf8')).replace(
      /(specs\.apollo\.dev\/(?:requiresScopes|authenticated)\/v[\d.]+"), for: SECURITY/g,
      '$1',
    ),
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource({
        url,
        willSendRequest: ({ request }) => request.http?.headers.set(identity.header, identity.value()),
      }),
  });
  const server = new ApolloServer({ gateway });
  const { url } = await startStandaloneServer(server, { listen: { port: benchPort(), host: '127.0.0.1' } });
  process.stdout.write(`listening ${url}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`apollo gateway failed: ${String(error)}\n`);
  process.exit(1);
});
