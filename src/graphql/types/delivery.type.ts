import { Field, Float, Int, ObjectType } from 'type-graphql';
import type { PresetEntity, VariantEntity } from '../../db/entities/index.js';
import { toPublicId } from '../../ids/index.js';
import type { TransformPlan } from '../../transforms/index.js';
import { Placeholder } from './asset.type.js';
import { Node } from './node.type.js';
import { Transform } from './transform.type.js';

@ObjectType({ description: 'An image URL with its size known in advance, ready for <img>.' })
export class Image {
  @Field() url: string;
  @Field(() => Int, { description: 'Output width, px, predicted without rendering.' }) width: number;
  @Field(() => Int, { description: 'Output height, px, predicted without rendering.' }) height: number;
  @Field({ description: 'Output format, "auto" when negotiated per browser, or "original".' }) format: string;
  @Field({ description: 'URLs per width for the srcset attribute.' }) srcSet: string;
  @Field({ description: 'A sizes attribute matching the image width.' }) sizes: string;
  @Field(() => Placeholder) placeholder: Placeholder;
}

@ObjectType({ description: 'Everything a responsive <img> (or <picture>) needs.' })
export class ResponsiveImage {
  @Field({ description: 'Fallback src: the largest width.' }) src: string;
  @Field() srcSet: string;
  @Field(() => String, {
    nullable: true,
    description:
      'The same widths in WebP, for a <source type="image/webp"> when the main format is not negotiated.',
  })
  webpSrcSet: string | null;
  @Field() sizes: string;
  @Field(() => Int) width: number;
  @Field(() => Int) height: number;
  @Field(() => Float, { description: 'width / height.' }) aspectRatio: number;
  @Field(() => Placeholder) placeholder: Placeholder;
}

@ObjectType({ implements: Node, description: 'A rendered transform of one version of an asset.' })
export class Variant extends Node {
  @Field({ description: 'Canonical ops string, the identity of the variant.' }) canonical: string;
  @Field() format: string;
  @Field(() => Int) width: number;
  @Field(() => Int) height: number;
  @Field(() => Int) bytes: number;
  @Field(() => Int) processingMs: number;
  @Field(() => Int, { description: 'Times served (counted in batches).' }) accessCount: number;
  @Field(() => Date, { nullable: true }) lastAccessedAt: Date | null;
  @Field() createdAt: Date;
  entity: VariantEntity;

  static from(row: VariantEntity): Variant {
    return Object.assign(new Variant(), {
      id: toPublicId('Variant', row.id),
      canonical: row.canonical,
      format: row.format,
      width: row.width,
      height: row.height,
      bytes: row.bytes,
      processingMs: row.processingMs,
      accessCount: row.accessCount,
      lastAccessedAt: row.lastAccessedAt,
      createdAt: row.createdAt,
      entity: row,
    });
  }
}

@ObjectType({
  implements: Node,
  description: 'A named transform: `preset_{slug}` in URLs, `preset:` in GraphQL.',
})
export class Preset extends Node {
  @Field() name: string;
  @Field() slug: string;
  @Field(() => Transform) transform: Transform;
  @Field({ description: 'Canonical ops string; changes when the preset is edited.' }) canonical: string;
  @Field({ description: 'Render it in the background for every new or replaced matching asset.' })
  autoGenerate: boolean;
  @Field(() => [String], { description: 'Only assets with one of these tags (empty: all).' })
  matchTags: string[];
  @Field(() => [String], { description: 'Only assets in one of these folders or below (empty: all).' })
  matchFolders: string[];
  @Field({ description: 'True for an organization-wide preset, inherited by every space.' })
  organizationWide: boolean;
  @Field() createdAt: Date;
  @Field() updatedAt: Date;
  entity: PresetEntity;

  static from(row: PresetEntity): Preset {
    return Object.assign(new Preset(), {
      id: toPublicId('Preset', row.id),
      name: row.name,
      slug: row.slug,
      transform: Transform.from(row.operations as TransformPlan),
      canonical: row.canonical,
      autoGenerate: row.autoGenerate,
      matchTags: row.matchTags,
      matchFolders: row.matchFolders,
      organizationWide: row.spaceId === null,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      entity: row,
    });
  }
}
