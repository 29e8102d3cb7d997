import { Field, Float, Int, ObjectType } from 'type-graphql';
import type { AssetEntity } from '../../db/entities/index.js';
import { toPublicId } from '../../ids/index.js';
import { isAnimated } from '../../media/asset-source.js';
import { JSONScalar } from '../scalars.js';
import { AccessEnum } from './enums.js';
import { Node } from './node.type.js';

@ObjectType({
  description: 'The point a crop keeps in view, relative to the image (0..1 from the top left).',
})
export class FocalPoint {
  @Field(() => Float) x: number;
  @Field(() => Float) y: number;
}

@ObjectType({ description: 'What to show while the image loads.' })
export class Placeholder {
  @Field({ description: 'BlurHash string (https://blurha.sh).' }) blurhash: string;
  @Field({ description: 'ThumbHash, base64 (https://evanw.github.io/thumbhash/).' }) thumbhash: string;
  @Field({ description: 'A tiny blurred WebP as a data URI, usable directly as an image source.' })
  dataUri: string;
  @Field({ description: 'Most common colour, #rrggbb.' }) dominantColor: string;
  @Field(() => Int, { description: 'Width of the tiny image, px.' }) width: number;
  @Field(() => Int, { description: 'Height of the tiny image, px.' }) height: number;
}

@ObjectType({ implements: Node, description: 'An original image in a space.' })
export class Asset extends Node {
  @Field(() => Int, { description: 'Starts at 1; replacing the file adds 1 and changes every URL.' })
  version: number;
  @Field() filename: string;
  @Field() mimeType: string;
  @Field({ description: 'jpeg, png, webp, avif, gif or tiff, from the bytes (not the file name).' })
  format: string;
  @Field(() => Int, { description: 'Width in px as displayed (after EXIF orientation).' }) width: number;
  @Field(() => Int, { description: 'Height in px as displayed (after EXIF orientation).' }) height: number;
  @Field(() => Int, { description: 'Size of the original, bytes.' }) bytes: number;
  @Field({ description: 'SHA-256 of the original, lowercase hex.' }) sha256: string;
  @Field() hasAlpha: boolean;
  @Field({ description: 'True for animated GIF and WebP.' }) animated: boolean;
  @Field(() => Int, { description: 'Frames of an animation; 1 for a still image.' }) frames: number;
  @Field(() => String, { nullable: true, description: 'Colour space of the original: srgb, cmyk, b-w, …' })
  colorSpace: string | null;
  @Field(() => Int, { description: 'EXIF orientation of the original (1–8); outputs are always upright.' })
  orientation: number;
  @Field(() => AccessEnum) access: AccessEnum;
  @Field(() => [String]) tags: string[];
  @Field({ description: 'Folder path, segments joined by "/"; "" is the root.' }) folder: string;
  @Field(() => JSONScalar, {
    nullable: true,
    description: 'EXIF, grouped (Image, Photo, GPSInfo…); GPS only when the space keeps it.',
  })
  exif: object | null;
  @Field(() => FocalPoint, { nullable: true }) focalPoint: FocalPoint | null;
  @Field(() => Placeholder) placeholder: Placeholder;
  @Field() createdAt: Date;
  @Field() updatedAt: Date;
  entity: AssetEntity;

  static from(row: AssetEntity): Asset {
    return Object.assign(new Asset(), {
      id: toPublicId('Asset', row.id),
      version: row.version,
      filename: row.filename,
      mimeType: row.mimeType,
      format: row.format,
      width: row.width,
      height: row.height,
      bytes: row.bytes,
      sha256: row.sha256,
      hasAlpha: row.hasAlpha,
      animated: isAnimated(row),
      frames: row.format === 'gif' || row.format === 'webp' ? row.pages : 1,
      colorSpace: row.colorSpace,
      orientation: row.orientation,
      access: row.access as AccessEnum,
      tags: row.tags,
      folder: row.folder,
      exif: row.exif,
      focalPoint:
        row.focalX === null || row.focalY === null
          ? null
          : Object.assign(new FocalPoint(), { x: row.focalX, y: row.focalY }),
      placeholder: Object.assign(new Placeholder(), {
        blurhash: row.placeholder.blurhash,
        thumbhash: row.placeholder.thumbhash,
        dataUri: row.placeholder.lqip,
        dominantColor: row.placeholder.dominantColor,
        width: row.placeholder.width,
        height: row.placeholder.height,
      }),
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      entity: row,
    });
  }
}

@ObjectType({ description: 'Where and how a browser sends a file straight to storage.' })
export class PresignedUpload {
  @Field({ description: 'Id for `completeUpload` once the POST succeeded.' }) uploadId: string;
  @Field({ description: 'Form action: POST a multipart/form-data form here.' }) url: string;
  @Field({ description: 'Always POST.' }) method: string;
  @Field(() => JSONScalar, {
    description: 'Form fields to send, in this order, before the file field named "file".',
  })
  fields: Record<string, string>;
  @Field({ description: 'The POST is refused after this time.' }) expiresAt: Date;
  @Field(() => Int, { description: 'Most bytes the POST may carry.' }) maxBytes: number;
}
