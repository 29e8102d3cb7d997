import { notFound } from '../errors/index.js';
import { fromPublicId, type IdType } from '../ids/index.js';

const LABEL: Readonly<Record<IdType, string>> = {
  Organization: 'Organization',
  Tenant: 'Tenant',
  Space: 'Space',
  ApiKey: 'API key',
  SigningKey: 'Signing key',
  Asset: 'Asset',
  Preset: 'Preset',
  Variant: 'Variant',
  Upload: 'Upload',
  AuditEntry: 'Audit entry',
};

/**
 * The row id behind a public id of the expected type.
 * @throws DomainError NOT_FOUND for malformed ids or ids of another type: the same answer as for unknown ids.
 */
export function rowIdOf(type: IdType, id: string): string {
  const row = fromPublicId(type, id);
  if (row === undefined) throw notFound(LABEL[type], id);
  return row;
}

/** Like `rowIdOf` for optional arguments. */
export const optionalRowIdOf = (type: IdType, id: string | null | undefined): string | null =>
  id === null || id === undefined ? null : rowIdOf(type, id);
