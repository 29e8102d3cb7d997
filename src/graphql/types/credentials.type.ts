import { Field, ObjectType } from 'type-graphql';
import type { ApiKeyEntity, SigningKeyEntity } from '../../db/entities/index.js';
import { toPublicId } from '../../ids/index.js';
import { ScopeEnum, SigningKeyStatusEnum } from './enums.js';
import { Node } from './node.type.js';

@ObjectType({
  implements: Node,
  description: 'An API key. Its secret is shown once, at creation, and never stored.',
})
export class ApiKey extends Node {
  @Field() name: string;
  @Field({ description: 'The public part of the key: `tsk_<keyId>_…`.' }) keyId: string;
  @Field(() => [ScopeEnum]) scopes: ScopeEnum[];
  @Field(() => Date, { nullable: true }) expiresAt: Date | null;
  @Field(() => Date, { nullable: true }) revokedAt: Date | null;
  @Field(() => Date, { nullable: true }) lastUsedAt: Date | null;
  @Field() createdAt: Date;
  @Field({ description: 'True when the key is neither revoked nor expired.' }) active: boolean;
  rowId: string;
  organizationRowId: string;
  tenantRowId: string | null;
  spaceRowId: string | null;

  static from(row: ApiKeyEntity, now: Date = new Date()): ApiKey {
    return Object.assign(new ApiKey(), {
      id: toPublicId('ApiKey', row.id),
      rowId: row.id,
      organizationRowId: row.organizationId,
      tenantRowId: row.tenantId,
      spaceRowId: row.spaceId,
      name: row.name,
      keyId: row.keyId,
      scopes: row.scopes as ScopeEnum[],
      expiresAt: row.expiresAt,
      revokedAt: row.revokedAt,
      lastUsedAt: row.lastUsedAt,
      createdAt: row.createdAt,
      active: row.revokedAt === null && (row.expiresAt === null || row.expiresAt > now),
    });
  }
}

@ObjectType({ description: 'A new API key and its secret token, shown only this once.' })
export class CreatedApiKey {
  @Field(() => ApiKey) apiKey: ApiKey;
  @Field({ description: 'Send as `Authorization: Bearer <token>`. Store it now: it cannot be shown again.' })
  token: string;
}

@ObjectType({ description: 'A key that signs private image URLs. Its secret never leaves the server.' })
export class SigningKey {
  @Field() kid: string;
  @Field(() => SigningKeyStatusEnum) status: SigningKeyStatusEnum;
  @Field() createdAt: Date;
  @Field(() => Date, { nullable: true, description: 'When a rotated key stops verifying.' })
  verifyUntil: Date | null;

  static from(row: SigningKeyEntity): SigningKey {
    return Object.assign(new SigningKey(), {
      kid: row.kid,
      status: row.status as SigningKeyStatusEnum,
      createdAt: row.createdAt,
      verifyUntil: row.verifyUntil,
    });
  }
}
