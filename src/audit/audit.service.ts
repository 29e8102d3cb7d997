import { isIP } from 'node:net';
import type { DataSource } from 'typeorm';
import { requireScope, type Principal } from '../auth/principal.js';
import { AuditEntryEntity } from '../db/entities/index.js';
import { toJsonObject } from '../db/entities/columns.js';
import { badInput } from '../errors/index.js';

/** Where a change came from. */
export interface RequestOrigin {
  readonly ip?: string;
  readonly userAgent?: string;
  readonly requestId?: string;
}

export interface AuditRecord {
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId?: string | null;
  readonly tenantId?: string | null;
  readonly spaceId?: string | null;
  readonly details?: Record<string, unknown>;
}

export interface AuditFilter {
  readonly action?: string;
  readonly resourceType?: string;
  readonly resourceId?: string;
  readonly actorId?: string;
  readonly spaceId?: string;
  readonly since?: Date;
  readonly until?: Date;
}

/** The audit log: every mutation, who made it, on what, when and from where. */
export class AuditService {
  constructor(private readonly db: DataSource) {}

  async record(principal: Principal, origin: RequestOrigin, entry: AuditRecord): Promise<void> {
    const row: Omit<AuditEntryEntity, 'id' | 'createdAt'> = {
      organizationId: principal.organizationId,
      tenantId: entry.tenantId ?? principal.tenantId,
      spaceId: entry.spaceId ?? principal.spaceId,
      actorType: principal.kind,
      actorId: principal.actorId,
      action: entry.action,
      resourceType: entry.resourceType,
      resourceId: entry.resourceId ?? null,
      ip: origin.ip !== undefined && isIP(origin.ip) !== 0 ? origin.ip : null,
      userAgent: origin.userAgent?.slice(0, 500) ?? null,
      requestId: origin.requestId ?? null,
      details: toJsonObject(entry.details ?? {}),
    };
    await this.db
      .createQueryBuilder()
      .insert()
      .into(AuditEntryEntity)
      .values(row as object)
      .execute();
  }

  /**
   * Entries the admin may see, newest first; `after` is the id of the last entry of the previous page.
   * @throws DomainError FORBIDDEN without the admin scope; BAD_USER_INPUT for an `after` that is no entry id.
   */
  async list(
    principal: Principal,
    first: number,
    after?: string,
    filter: AuditFilter = {},
  ): Promise<AuditEntryEntity[]> {
    requireScope(principal, 'admin');
    const qb = this.db
      .getRepository(AuditEntryEntity)
      .createQueryBuilder('a')
      .where('a.organization_id = :org', { org: principal.organizationId });
    if (principal.tenantId !== null) qb.andWhere('a.tenant_id = :tenant', { tenant: principal.tenantId });
    if (principal.spaceId !== null) qb.andWhere('a.space_id = :space', { space: principal.spaceId });
    if (filter.action) qb.andWhere('a.action = :action', { action: filter.action });
    if (filter.resourceType) qb.andWhere('a.resource_type = :rt', { rt: filter.resourceType });
    if (filter.resourceId) qb.andWhere('a.resource_id = :rid', { rid: filter.resourceId });
    if (filter.actorId) qb.andWhere('a.actor_id = :actor', { actor: filter.actorId });
    if (filter.spaceId) qb.andWhere('a.space_id = :fspace', { fspace: filter.spaceId });
    if (filter.since) qb.andWhere('a.created_at >= :since', { since: filter.since });
    if (filter.until) qb.andWhere('a.created_at < :until', { until: filter.until });
    if (after !== undefined) {
      if (!/^\d{1,18}$/.test(after)) throw badInput('Invalid cursor.', { field: 'after' });
      qb.andWhere('a.id < :after', { after });
    }
    return qb.orderBy('a.id', 'DESC').limit(first).getMany();
  }
}
