/**
 * Variables of a REST request: read from their sources, converted, then checked against the
 * operation's variable definitions and the public schema before anything is executed, so a
 * missing or mistyped field is a 400/422 naming the REST field, never a 500 or a half-done write.
 */
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  buildSchema,
  coerceInputValue,
  GraphQLError,
  isNonNullType,
  Kind,
  print,
  typeFromAST,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BigIntScalar, projectRoot } from '../../lib';
import { RestError } from './errors';
import { InputError, type RouteInput, type Source } from './types';

/** The public API schema, with the BigInt scalar's own parsing so money is checked here too. */
export function loadApiSchema(sdl = readFileSync(join(projectRoot(), 'schema', 'api.graphql'), 'utf8')) {
  return mapSchema(buildSchema(sdl), {
    [MapperKind.SCALAR_TYPE]: (type) => (type.name === 'BigInt' ? BigIntScalar : type),
  });
}

/** What the engine needs of one operation: its text, name and variable definitions. */
export interface Operation {
  name: string;
  text: string;
  kind: 'query' | 'mutation' | 'subscription';
  definition: OperationDefinitionNode;
  document: DocumentNode;
}

export function operationOf(document: TypedDocumentNode<unknown, unknown>): Operation {
  const definition = document.definitions.find(
    (node): node is OperationDefinitionNode => node.kind === Kind.OPERATION_DEFINITION,
  );
  if (!definition?.name) throw new Error('a REST row needs a named operation');
  return {
    name: definition.name.value,
    text: print(document),
    kind: definition.operation,
    definition,
    document,
  };
}

export type Sources = Record<string, Source | undefined>;

/** The object that holds a dotted path's last key, created on the way. */
function parentOf(target: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  return node;
}

/** The REST name of a variable path, for messages: the body field, parameter or header it came from. */
export const restName = (sources: Sources, path: string) => sources[path]?.name || path;

/**
 * Reads every source and runs its converter. An absent value stays absent so the schema's
 * default applies; the objects that hold nested fields always exist so a missing one is named.
 */
export function buildVariables(sources: Sources, input: RouteInput): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [path, source] of Object.entries(sources)) {
    if (!source) continue;
    const keys = path.split('.');
    const parent = parentOf(variables, keys);
    const raw = source.read(input);
    if (raw === undefined) continue;
    try {
      parent[keys[keys.length - 1]] = raw === null || !source.converter ? raw : source.converter.convert(raw);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      problems.push(`${source.name || path} ${error.message}`);
    }
  }
  if (problems.length) throw new RestError('BAD_USER_INPUT', problems.join('; '));
  return variables;
}

/** Checks variables as graphql-js would, but reports each problem under its REST name. */
export function checkVariables(
  schema: GraphQLSchema,
  operation: Operation,
  variables: Record<string, unknown>,
  sources: Sources,
): void {
  const problems: string[] = [];
  for (const definition of operation.definition.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const type = typeFromAST(schema, definition.type as never) as GraphQLInputType;
    const value = variables[name];
    if (value === undefined) {
      if (isNonNullType(type) && !definition.defaultValue)
        problems.push(`${restName(sources, name)} is required`);
      continue;
    }
    coerceInputValue(value, type, (path, _invalid, error: GraphQLError) => {
      const at = [name, ...path].join('.');
      const missing = /^Field "(\w+)" of required type .* was not provided\.$/.exec(error.message);
      if (missing) problems.push(`${restName(sources, `${at}.${missing[1]}`)} is required`);
      else problems.push(`${restName(sources, at)} ${reason(error.message)}`);
    });
  }
  if (problems.length) throw new RestError('BAD_USER_INPUT', problems.join('; '));
}

/** graphql-js's wording in JSON terms: clients of a REST API never declared a `String!`. */
const SCALAR_REASONS: Record<string, string> = {
  String: 'must be a string',
  ID: 'must be a string',
  Int: 'must be an integer',
  Float: 'must be a number',
  Boolean: 'must be true or false',
};

function reason(message: string): string {
  if (/not to be null/.test(message)) return 'must not be null';
  const scalar = /^(?:Expected type "\w+"\. )?(\w+) cannot represent/.exec(message);
  if (scalar && SCALAR_REASONS[scalar[1]]) return SCALAR_REASONS[scalar[1]];
  if (/^Expected type "\w+" to be an object/.test(message)) return 'must be an object';
  return `is invalid: ${message.replace(/^Expected type "\w+"\. /, '')}`;
}

/**
 * Rewrites a GraphQL field name in a subgraph's message to the REST name the client sent, e.g.
 * "rewardMinor cannot be negative" → "reward cannot be negative".
 */
export function renameFields(message: string, sources: Sources): string {
  let renamed = message;
  for (const [path, source] of Object.entries(sources)) {
    const field = path.split('.').pop()!;
    if (source?.name && source.name !== field)
      renamed = renamed.replace(new RegExp(`\\b${field}\\b`, 'g'), source.name);
  }
  return renamed;
}
