import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { IsNull } from 'typeorm';
import { ApiKeyEntity, SpaceEntity, TenantEntity } from '../db/entities/index.js';
import { uuidv7 } from '../db/ids.js';
import { badInput, forbidden, notFound, unauthenticated } from '../errors/index.js';
import { toPublicId } from '../ids/index.js';
import { canManage, canSee, effectiveScopes, requireScope, type Principal, type Scope } from './principal.js';

const KEY_PATTERN = /^tsk_([0-9a-z]{16})_([0-9a-f]{64})$/;
/** How long a verified key is trusted without asking the registry again. Revocation on this node is immediate. */
const VERIFIED_TTL_MS = 10_000;
/** `last_used_at` is written at most this often per key. */
const LAST_USED_RESOLUTION_MS = 60_000;

export interface CreateApiKeyInput {
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly tenantId?: string | null;
  readonly spaceId?: string | null;
  readonly expiresAt?: Date | null;
}

export interface CreatedApiKey {
  readonly key: ApiKeyEntity;
  /** The full token `tsk_<keyid>_<secret>`: shown once, never stored. */
  readonly token: string;
}

const hashSecret = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

const randomKeyId = (): string => {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  const bytes = randomBytes(16);
  let id = '';
  for (const b of bytes) id += alphabet[b % 36];
  return id;
};

/**
 * API keys: `tsk_<keyid>_<secret>` with a 256-bit secret, stored only as its SHA-256 (the secret is
 * random, so a slow hash adds nothing), bound to an organization and optionally a tenant or space.
 */
export class ApiKeyService {
  private readonly verified = new Map<string, { key: ApiKeyEntity; until: number }>();

  constructor(private readonly db: DataSource) {}

  /**
   * Creates a key. A caller may only grant scopes it has and bind no wider than itself.
   * @throws DomainError FORBIDDEN (scope or binding wider than the caller's), NOT_FOUND (tenant or space), BAD_USER_INPUT.
   */
  async create(principal: Principal, input: CreateApiKeyInput): Promise<CreatedApiKey> {
    requireScope(principal, 'admin');
    if (input.scopes.length === 0) throw badInput('A key needs at least one scope.');
    for (const scope of input.scopes) {
      if (!principal.scopes.has(scope))
        throw forbidden(`Cannot grant the "${scope}" scope: the caller does not hold it.`);
    }
    const name = input.name.trim();
    if (name.length < 1 || name.length > 200) throw badInput('name must be 1 to 200 characters.');
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now())
      throw badInput('expiresAt must be in the future.');

    let tenantId = input.tenantId ?? null;
    const spaceId = input.spaceId ?? null;
    if (spaceId !== null) {
      const space = await this.db.getRepository(SpaceEntity).findOneBy({ id: spaceId });
      if (
        !space ||
        !canSee(principal, {
          organizationId: space.organizationId,
          tenantId: space.tenantId,
          spaceId: space.id,
        })
      ) {
        throw notFound('Space');
      }
      if (tenantId !== null && tenantId !== space.tenantId) throw badInput('spaceId is not in tenantId.');
      tenantId = space.tenantId;
    } else if (tenantId !== null) {
      const tenant = await this.db.getRepository(TenantEntity).findOneBy({ id: tenantId });
      if (!tenant || !canSee(principal, { organizationId: tenant.organizationId, tenantId: tenant.id }))
        throw notFound('Tenant');
    }
    if (!canManage(principal, { organizationId: principal.organizationId, tenantId, spaceId })) {
      throw forbidden('A key cannot be bound wider than the key that creates it.');
    }

    const keyId = randomKeyId();
    const secret = randomBytes(32).toString('hex');
    const key = this.db.getRepository(ApiKeyEntity).create({
      id: uuidv7(),
      keyId,
      secretHash: hashSecret(secret),
      name,
      organizationId: principal.organizationId,
      tenantId,
      spaceId,
      scopes: [...new Set(input.scopes)],
      expiresAt: input.expiresAt ?? null,
      revokedAt: null,
      lastUsedAt: null,
      createdBy: principal.actorId,
    });
    await this.db.getRepository(ApiKeyEntity).insert(key);
    return { key, token: `tsk_${keyId}_${secret}` };
  }

  /** Creates the first admin key of an organization (bootstrap and CLI; no caller to check). */
  async createInitial(
    organizationId: string,
    name: string,
    manager: EntityManager = this.db.manager,
  ): Promise<CreatedApiKey> {
    const keyId = randomKeyId();
    const secret = randomBytes(32).toString('hex');
    const key = manager.create(ApiKeyEntity, {
      id: uuidv7(),
      keyId,
      secretHash: hashSecret(secret),
      name,
      organizationId,
      tenantId: null,
      spaceId: null,
      scopes: ['admin'],
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
      createdBy: 'system',
    });
    await manager.insert(ApiKeyEntity, key);
    return { key, token: `tsk_${keyId}_${secret}` };
  }

  /**
   * Turns a bearer token into a principal.
   * @throws DomainError UNAUTHENTICATED for a malformed, unknown, revoked or expired key (one message for all).
   */
  async verify(token: string, now: Date = new Date()): Promise<Principal> {
    const match = KEY_PATTERN.exec(token);
    if (!match) throw unauthenticated('Invalid API key.');
    const [, keyId, secret] = match as unknown as [string, string, string];
    const cached = this.verified.get(keyId);
    let key: ApiKeyEntity | null;
    if (cached && cached.until > now.getTime()) {
      key = cached.key;
    } else {
      key = await this.db.getRepository(ApiKeyEntity).findOneBy({ keyId });
      if (key) this.verified.set(keyId, { key, until: now.getTime() + VERIFIED_TTL_MS });
      else this.verified.delete(keyId);
    }
    const presented = hashSecret(secret);
    // Compare even when the key is unknown, so timing does not tell which key ids exist.
    const expected = key?.secretHash ?? Buffer.alloc(32);
    const matches = timingSafeEqual(presented, expected) && key !== null;
    if (!key || !matches || key.revokedAt !== null || (key.expiresAt !== null && key.expiresAt <= now)) {
      throw unauthenticated('Invalid, revoked or expired API key.');
    }
    if (key.lastUsedAt === null || now.getTime() - key.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      key.lastUsedAt = now;
      void this.db
        .getRepository(ApiKeyEntity)
        .update({ id: key.id }, { lastUsedAt: now })
        .catch(() => undefined);
    }
    return {
      kind: 'api_key',
      actorId: toPublicId('ApiKey', key.id),
      organizationId: key.organizationId,
      tenantId: key.tenantId,
      spaceId: key.spaceId,
      scopes: effectiveScopes(key.scopes),
      apiKeyRowId: key.id,
    };
  }

  /**
   * Revokes a key the caller can manage. Idempotent.
   * @throws DomainError NOT_FOUND for unknown or foreign keys, FORBIDDEN without `admin`.
   */
  async revoke(principal: Principal, id: string): Promise<ApiKeyEntity> {
    requireScope(principal, 'admin');
    const key = await this.findVisible(principal, id);
    if (key.revokedAt === null) {
      key.revokedAt = new Date();
      await this.db
        .getRepository(ApiKeyEntity)
        .update({ id: key.id, revokedAt: IsNull() }, { revokedAt: key.revokedAt });
    }
    this.verified.delete(key.keyId);
    return key;
  }

  /** A key the principal may see. @throws DomainError NOT_FOUND */
  async findVisible(principal: Principal, id: string): Promise<ApiKeyEntity> {
    const key = await this.db.getRepository(ApiKeyEntity).findOneBy({ id });
    if (!key || !canManage(principal, key)) throw notFound('API key');
    return key;
  }

  /** Keys the principal may see, newest first, keyset-paginated by (created_at, id). */
  async list(
    principal: Principal,
    first: number,
    after?: { createdAt: Date; id: string },
  ): Promise<ApiKeyEntity[]> {
    requireScope(principal, 'admin');
    const qb = this.db
      .getRepository(ApiKeyEntity)
      .createQueryBuilder('k')
      .where('k.organization_id = :org', { org: principal.organizationId });
    if (principal.tenantId !== null) qb.andWhere('k.tenant_id = :tenant', { tenant: principal.tenantId });
    if (principal.spaceId !== null) qb.andWhere('k.space_id = :space', { space: principal.spaceId });
    if (after) qb.andWhere('(k.created_at, k.id) < (:at, :id)', { at: after.createdAt, id: after.id });
    return qb.orderBy('k.created_at', 'DESC').addOrderBy('k.id', 'DESC').limit(first).getMany();
  }
}
