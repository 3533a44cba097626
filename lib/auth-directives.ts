import { Directive } from 'type-graphql';
import type { Scope } from './identity';

/** The router refuses the field to anonymous callers. */
export const Authenticated = () => Directive('@authenticated');

/** The router requires an API key with `scope`, or `*` (every JWT session has `*`). */
export const RequiresScopes = (scope: Scope) => Directive(`@requiresScopes(scopes: [["${scope}"], ["*"]])`);
