import { printSubgraphSchema } from '@apollo/subgraph';
import { composeServices } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { SUBGRAPHS, type SubgraphName } from './config';
import type { PubSub } from './pubsub';
import { buildSubgraphSchema, type SubgraphDefinition } from './subgraph';

/** Schemas built only to be printed never subscribe or publish. */
const PRINT_ONLY: PubSub = {
  publish: () => Promise.reject(new Error('schema built for printing only')),
  subscribe: () => {
    throw new Error('schema built for printing only');
  },
  close: () => Promise.resolve(),
};

/** Each subgraph's SDL exactly as it serves it on `_service { sdl }`. */
export async function printSubgraphs(
  definitions: Record<SubgraphName, SubgraphDefinition>,
): Promise<Record<SubgraphName, string>> {
  const printed = await Promise.all(
    SUBGRAPHS.map(
      async (name) =>
        [name, printSubgraphSchema(await buildSubgraphSchema(definitions[name], PRINT_ONLY))] as const,
    ),
  );
  return Object.fromEntries(printed) as Record<SubgraphName, string>;
}

export class CompositionError extends Error {}

/** Composes the supergraph; a composition error stops here with the composer's messages. */
export function composeSupergraph(sdls: Record<SubgraphName, string>, urls: Record<SubgraphName, string>) {
  const result = composeServices(
    SUBGRAPHS.map((name) => ({ name, typeDefs: parse(sdls[name]), url: urls[name] })),
  );
  if (result.errors) {
    throw new CompositionError(
      `Supergraph composition failed:\n${result.errors.map((e) => `  ${e.message}`).join('\n')}`,
    );
  }
  return { supergraph: result.supergraphSdl, api: result.publicSdl };
}
