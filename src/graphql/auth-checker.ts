import type { AuthCheckerFn } from 'type-graphql';
import { requireScope, type Scope } from '../auth/principal.js';
import { principalOf, type GraphQLContext } from './context.js';

/**
 * `@Authorized()` needs a principal; `@Authorized('assets:read')` also needs the scope.
 * Throws the domain error itself, so clients see UNAUTHENTICATED or FORBIDDEN with a message.
 */
export const authChecker: AuthCheckerFn<GraphQLContext, Scope> = ({ context }, scopes) => {
  const principal = principalOf(context);
  for (const scope of scopes) requireScope(principal, scope);
  return true;
};
