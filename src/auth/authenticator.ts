import { unauthenticated } from '../errors/index.js';
import type { ApiKeyService } from './api-keys.js';
import type { JwtVerifier } from './jwt.js';
import type { Principal } from './principal.js';

/** Outcome of reading credentials: a principal, none, or a refusal to report when one is needed. */
export type Authentication =
  | { readonly principal: Principal; readonly error?: undefined }
  | { readonly principal: null; readonly error?: Error };

/**
 * Reads `Authorization: Bearer …`: `tsk_…` tokens are API keys, anything else is tried as a JWT
 * when JWT verification is configured.
 */
export class Authenticator {
  constructor(
    private readonly apiKeys: ApiKeyService,
    private readonly jwt: JwtVerifier | undefined,
  ) {}

  async authenticate(authorization: string | undefined): Promise<Authentication> {
    if (authorization === undefined || authorization.trim() === '') return { principal: null };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match)
      return {
        principal: null,
        error: unauthenticated('Authorization must be "Bearer <API key or token>".'),
      };
    const token = match[1]!;
    try {
      if (token.startsWith('tsk_') || this.jwt === undefined)
        return { principal: await this.apiKeys.verify(token) };
      return { principal: await this.jwt.verify(token) };
    } catch (error) {
      return { principal: null, error: error instanceof Error ? error : new Error(String(error)) };
    }
  }
}
