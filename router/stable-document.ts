import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import type { DefinitionNode, DocumentNode } from 'graphql';

/** One definition of a document and its (maybe shallow) copy: the same parts, by reference. */
const sameParts = (a: DefinitionNode, b: DefinitionNode) =>
  a === b ||
  (a.kind === b.kind &&
    'selectionSet' in a &&
    'selectionSet' in b &&
    a.selectionSet === b.selectionSet &&
    a.name?.value === b.name?.value &&
    a.directives === b.directives &&
    ('variableDefinitions' in a ? a.variableDefinitions : undefined) ===
      ('variableDefinitions' in b ? b.variableDefinitions : undefined));

/**
 * Keeps the parsed document's identity from validation to execution (issue 18).
 *
 * Yoga parses a query string once and hands the same document object to every request that sends
 * it, and Hive Gateway keys its plans by that object (the Rust planner's plan cache, the JS
 * planner's memoized delegation transforms). But generic-auth (the @authenticated / @requiresScopes
 * check) gives execution a copy of the document on every request (its removeEmptyOrUnusedNodes
 * copies the document and its definitions), so every request was planned afresh. Execution only
 * starts when generic-auth removed nothing (it refuses the request otherwise), and then the copy's
 * definitions hold the very same selection sets, variables and directives: the validated document
 * is put back in its place.
 */
export function useStableDocument(): GatewayPlugin {
  const validated = new WeakMap<object, DocumentNode>();
  const key = (document: DocumentNode) => {
    const first = document.definitions[0];
    return first && 'selectionSet' in first ? first.selectionSet : undefined;
  };
  const restore = (args: { document: DocumentNode }) => {
    const selections = key(args.document);
    const original = selections && validated.get(selections);
    if (
      original &&
      original !== args.document &&
      original.definitions.length === args.document.definitions.length &&
      original.definitions.every((definition, i) => sameParts(definition, args.document.definitions[i]))
    )
      args.document = original;
  };
  return {
    onValidate({ params }) {
      const selections = key(params.documentAST);
      if (selections) validated.set(selections, params.documentAST);
    },
    onExecute: ({ args }) => restore(args),
    onSubscribe: ({ args }) => restore(args),
  };
}
