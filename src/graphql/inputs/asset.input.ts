import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import { Field, Float, ID, InputType, Int, registerEnumType } from 'type-graphql';
import { UploadScalar } from '../scalars.js';
import { AccessEnum } from '../types/enums.js';

@InputType()
export class UploadAssetInput {
  @Field(() => ID) spaceId: string;
  @Field(() => UploadScalar, {
    description: 'The file (multipart request; send the header `apollo-require-preflight: true`).',
  })
  file: Promise<FileUpload>;
  @Field({ nullable: true, description: "Defaults to the uploaded file's name." }) filename?: string;
  @Field(() => AccessEnum, { nullable: true, description: "Defaults to the space's default access." })
  access?: AccessEnum;
  @Field(() => [String], { nullable: true }) tags?: string[];
  @Field({ nullable: true }) folder?: string;
}

@InputType()
export class CreateUploadInput {
  @Field(() => ID) spaceId: string;
  @Field() filename: string;
  @Field({
    description:
      'The media type the browser will send: image/jpeg, image/png, image/webp, image/avif, image/gif or image/tiff.',
  })
  contentType: string;
  @Field(() => Int, { description: 'Size of the file, bytes: the upload may carry at most this many.' })
  bytes: number;
  @Field(() => AccessEnum, { nullable: true }) access?: AccessEnum;
  @Field(() => [String], { nullable: true }) tags?: string[];
  @Field({ nullable: true }) folder?: string;
}

@InputType()
export class ImportAssetInput {
  @Field(() => ID) spaceId: string;
  @Field({ description: 'http(s) URL of an image on the public internet.' }) url: string;
  @Field({ nullable: true }) filename?: string;
  @Field(() => AccessEnum, { nullable: true }) access?: AccessEnum;
  @Field(() => [String], { nullable: true }) tags?: string[];
  @Field({ nullable: true }) folder?: string;
}

@InputType()
export class FocalPointInput {
  @Field(() => Float) x: number;
  @Field(() => Float) y: number;
}

@InputType()
export class UpdateAssetInput {
  @Field({ nullable: true }) filename?: string;
  @Field(() => [String], { nullable: true, description: 'Replaces the tags.' }) tags?: string[];
  @Field({ nullable: true }) folder?: string;
  @Field(() => AccessEnum, { nullable: true }) access?: AccessEnum;
  @Field(() => FocalPointInput, { nullable: true, description: 'null clears it.' })
  focalPoint?: FocalPointInput | null;
}

@InputType()
export class AssetFilter {
  @Field(() => [String], { nullable: true, description: 'Assets carrying every one of these tags.' })
  tags?: string[];
  @Field({ nullable: true, description: 'Exact folder ("" for the root).' }) folder?: string;
  @Field({ nullable: true, description: 'With `folder`, include its subfolders.' })
  includeSubfolders?: boolean;
  @Field(() => [String], { nullable: true, description: 'Source formats: jpeg, png, webp, avif, gif, tiff.' })
  formats?: string[];
  @Field(() => AccessEnum, { nullable: true }) access?: AccessEnum;
  @Field({ nullable: true }) createdAfter?: Date;
  @Field({ nullable: true }) createdBefore?: Date;
  @Field({ nullable: true, description: 'Case-insensitive part of the filename.' }) search?: string;
}

export enum AssetOrderField {
  CREATED_AT = 'createdAt',
  UPDATED_AT = 'updatedAt',
  FILENAME = 'filename',
  BYTES = 'bytes',
}
registerEnumType(AssetOrderField, { name: 'AssetOrderField' });

export enum OrderDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}
registerEnumType(OrderDirection, { name: 'OrderDirection' });

@InputType()
export class AssetOrder {
  @Field(() => AssetOrderField, { defaultValue: AssetOrderField.CREATED_AT }) field: AssetOrderField;
  @Field(() => OrderDirection, { defaultValue: OrderDirection.DESC }) direction: OrderDirection;
}
