import { ErrorCode, DomainError, unauthenticated } from '../errors/index.js';
import { SCOPES, type Scope } from '../db/entities/api-key.entity.js';

export { SCOPES, type Scope };

/** Who is calling: an API key, a JWT subject, or Tessera itself (jobs, CLI). */
export interface Principal {
  readonly kind: 'api_key' | 'jwt' | 'system';
  /** The key's public id (`key_…`), the JWT subject, or `system`. */
  readonly actorId: string;
  readonly organizationId: string;
  /** When set, the principal sees only this tenant. */
  readonly tenantId: string | null;
  /** When set, the principal sees only this space. */
  readonly spaceId: string | null;
  readonly scopes: ReadonlySet<Scope>;
  /** The API key row id, for revocation of the caller's own key. */
  readonly apiKeyRowId?: string;
}

/** The part of any tenancy-owned row that decides who may see it. */
export interface TenancyOwned {
  readonly organizationId: string;
  readonly tenantId?: string | null;
  readonly spaceId?: string | null;
}

/** What each scope grants beyond itself: `admin` grants all, writing assets grants reading them. */
const IMPLIED: Readonly<Record<Scope, readonly Scope[]>> = {
  admin: SCOPES,
  'assets:write': ['assets:write', 'assets:read'],
  'presets:write': ['presets:write', 'assets:read'],
  'assets:read': ['assets:read'],
};

/** Expands granted scopes with what they imply. */
export function effectiveScopes(granted: readonly Scope[]): ReadonlySet<Scope> {
  return new Set(granted.flatMap((s) => IMPLIED[s]));
}

export const isScope = (value: string): value is Scope => (SCOPES as readonly string[]).includes(value);

/**
 * @throws DomainError UNAUTHENTICATED without a principal, FORBIDDEN without the scope.
 */
export function requireScope(principal: Principal | null, scope: Scope): Principal {
  if (principal === null) throw unauthenticated();
  if (!principal.scopes.has(scope)) {
    throw new DomainError(ErrorCode.Forbidden, `This operation needs the "${scope}" scope.`, {
      details: { scope },
    });
  }
  return principal;
}

/**
 * The one tenancy rule: a principal sees a row when the row is in its organization and, where the
 * principal is bound to a tenant or a space, in that tenant or space. Organization-wide rows
 * (no tenant) are visible to every principal of the organization.
 */
export function canSee(principal: Principal, row: TenancyOwned): boolean {
  if (row.organizationId !== principal.organizationId) return false;
  if (principal.tenantId !== null && row.tenantId != null && row.tenantId !== principal.tenantId)
    return false;
  if (principal.spaceId !== null && row.spaceId != null && row.spaceId !== principal.spaceId) return false;
  return true;
}

/**
 * Like `canSee`, but for rows a principal may change: a principal bound to a space cannot change
 * organization-wide or tenant-wide rows, only rows of its space.
 */
export function canManage(principal: Principal, row: TenancyOwned): boolean {
  if (!canSee(principal, row)) return false;
  if (principal.tenantId !== null && (row.tenantId ?? null) === null) return false;
  if (principal.spaceId !== null && (row.spaceId ?? null) === null) return false;
  return true;
}

/** Tessera itself, for jobs and the CLI within one organization. */
export function systemPrincipal(organizationId: string): Principal {
  return {
    kind: 'system',
    actorId: 'system',
    organizationId,
    tenantId: null,
    spaceId: null,
    scopes: new Set(SCOPES),
  };
}
