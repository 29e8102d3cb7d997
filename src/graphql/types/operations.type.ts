import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { AuditEntryEntity, UsageDayEntity } from '../../db/entities/index.js';
import { JSONScalar } from '../scalars.js';
import { Preset, Variant } from './delivery.type.js';

@ObjectType({ description: 'Usage of a space on one day (UTC).' })
export class UsageDay {
  @Field({ description: 'YYYY-MM-DD.' }) date: string;
  @Field(() => Int, { description: 'Image requests served (all cache layers, 304s included).' })
  requests: number;
  @Field(() => Float, { description: 'Bytes of image bodies served.' }) bytesServed: number;
  @Field(() => Int) renders: number;
  @Field(() => Float, { description: 'Milliseconds spent rendering.' }) renderMs: number;
  @Field(() => Int) uploads: number;
  @Field(() => Float, { description: 'Originals plus variants stored, bytes, at the last count of the day.' })
  storedBytes: number;

  static from(row: UsageDayEntity): UsageDay {
    return Object.assign(new UsageDay(), {
      date: typeof row.day === 'string' ? row.day.slice(0, 10) : new Date(row.day).toISOString().slice(0, 10),
      requests: row.requests,
      bytesServed: row.bytesServed,
      renders: row.renders,
      renderMs: row.renderMs,
      uploads: row.uploads,
      storedBytes: row.storedBytes,
    });
  }
}

@ObjectType({ description: 'One mutation: who made it, on what, when and from where.' })
export class AuditEntry {
  @Field() id: string;
  @Field() action: string;
  @Field({ description: 'api_key, jwt or system.' }) actorType: string;
  @Field({ description: 'API key id (key_…), token subject, or system.' }) actorId: string;
  @Field() resourceType: string;
  @Field(() => String, { nullable: true }) resourceId: string | null;
  @Field(() => String, { nullable: true }) ip: string | null;
  @Field(() => String, { nullable: true }) userAgent: string | null;
  @Field(() => String, { nullable: true }) requestId: string | null;
  @Field(() => JSONScalar) details: object;
  @Field() createdAt: Date;

  static from(row: AuditEntryEntity): AuditEntry {
    return Object.assign(new AuditEntry(), {
      id: String(row.id),
      action: row.action,
      actorType: row.actorType,
      actorId: row.actorId,
      resourceType: row.resourceType,
      resourceId: row.resourceId,
      ip: row.ip,
      userAgent: row.userAgent,
      requestId: row.requestId,
      details: row.details,
      createdAt: row.createdAt,
    });
  }
}

export enum ProcessingStatus {
  PENDING = 'pending',
  DONE = 'done',
  FAILED = 'failed',
}
registerEnumType(ProcessingStatus, {
  name: 'ProcessingStatus',
  description: 'Where an eager variant stands.',
});

@ObjectType({ description: 'An eager preset of an asset and its render.' })
export class EagerVariant {
  @Field(() => Preset) preset: Preset;
  @Field(() => ProcessingStatus) status: ProcessingStatus;
  @Field(() => Variant, { nullable: true }) variant: Variant | null;
}
