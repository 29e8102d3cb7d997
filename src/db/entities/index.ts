export * from './organization.entity.js';
export * from './tenant.entity.js';
export * from './space.entity.js';
export * from './api-key.entity.js';
export * from './signing-key.entity.js';
export * from './asset.entity.js';
export * from './preset.entity.js';
export * from './variant.entity.js';
export * from './upload.entity.js';
export * from './audit-entry.entity.js';
export * from './usage-day.entity.js';

import { OrganizationEntity } from './organization.entity.js';
import { TenantEntity } from './tenant.entity.js';
import { SpaceEntity } from './space.entity.js';
import { ApiKeyEntity } from './api-key.entity.js';
import { SigningKeyEntity } from './signing-key.entity.js';
import { AssetEntity } from './asset.entity.js';
import { PresetEntity } from './preset.entity.js';
import { VariantEntity } from './variant.entity.js';
import { UploadEntity } from './upload.entity.js';
import { AuditEntryEntity } from './audit-entry.entity.js';
import { UsageDayEntity } from './usage-day.entity.js';

export const entities = [
  OrganizationEntity,
  TenantEntity,
  SpaceEntity,
  ApiKeyEntity,
  SigningKeyEntity,
  AssetEntity,
  PresetEntity,
  VariantEntity,
  UploadEntity,
  AuditEntryEntity,
  UsageDayEntity,
];
