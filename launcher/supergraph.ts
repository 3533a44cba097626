import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { projectRoot } from '../lib';

export const readCommittedSupergraph = () =>
  readFile(join(projectRoot(), 'schema', 'supergraph.graphql'), 'utf8');
