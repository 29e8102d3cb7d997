import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { unauthenticated } from '../errors/index.js';
import { fromPublicId } from '../ids/index.js';
import { effectiveScopes, isScope, type Principal, type Scope } from './principal.js';

export interface JwtOptions {
  /** HS256 shared secret. */
  readonly secret?: string;
  /** JWKS URL for asymmetric keys (RS256, ES256, EdDSA). */
  readonly jwksUrl?: string;
  readonly issuer?: string;
  readonly audience?: string;
}

/**
 * JWT bearer tokens whose claims map to the same principal as an API key:
 * `sub` (the actor), `org` (organization id, `org_…`), optional `tenant` (`ten_…`) and `space`
 * (`spc_…`), and `scope` (space-separated Tessera scopes, as in OAuth 2).
 */
export class JwtVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;

  constructor(private readonly options: JwtOptions) {
    if (options.jwksUrl) this.key = createRemoteJWKSet(new URL(options.jwksUrl));
    else if (options.secret) this.key = new TextEncoder().encode(options.secret);
    else throw new Error('JwtVerifier needs a secret or a JWKS URL');
  }

  /** @throws DomainError UNAUTHENTICATED for a bad signature, expiry, issuer, audience or claims. */
  async verify(token: string): Promise<Principal> {
    let payload: JWTPayload;
    try {
      const verifyOptions = {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: this.options.jwksUrl ? ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] : ['HS256'],
      };
      const result =
        typeof this.key === 'function'
          ? await jwtVerify(token, this.key, verifyOptions)
          : await jwtVerify(token, this.key, verifyOptions);
      payload = result.payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw unauthenticated('The token has expired.');
      throw unauthenticated('Invalid token.');
    }
    const claim = (name: string): string | undefined => {
      const value = payload[name];
      return typeof value === 'string' && value.length > 0 ? value : undefined;
    };
    const organizationId = fromPublicId('Organization', claim('org') ?? '');
    if (!payload.sub || organizationId === undefined)
      throw unauthenticated('The token lacks "sub" or a valid "org" claim.');
    const tenantClaim = claim('tenant');
    const spaceClaim = claim('space');
    const tenantId = tenantClaim === undefined ? null : (fromPublicId('Tenant', tenantClaim) ?? '');
    const spaceId = spaceClaim === undefined ? null : (fromPublicId('Space', spaceClaim) ?? '');
    if (tenantId === '' || spaceId === '')
      throw unauthenticated('The token has a malformed "tenant" or "space" claim.');
    if (spaceId !== null && tenantId === null)
      throw unauthenticated('A token bound to a space must name its tenant.');
    const scopes = (claim('scope') ?? '').split(' ').filter(isScope) as Scope[];
    if (scopes.length === 0) throw unauthenticated('The token grants no Tessera scope.');
    return {
      kind: 'jwt',
      actorId: payload.sub,
      organizationId,
      tenantId,
      spaceId,
      scopes: effectiveScopes(scopes),
    };
  }
}
