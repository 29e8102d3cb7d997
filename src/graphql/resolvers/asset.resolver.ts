import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { FileUpload } from 'graphql-upload/processRequest.mjs';
import type { AssetSortField } from '../../media/assets.service.js';
import { sortValue } from '../../media/assets.service.js';
import { badInput, notFound } from '../../errors/index.js';
import { openUpload } from '../uploads.js';
import {
  connectionType,
  decodeCursor,
  encodeCursor,
  pageSize,
  toConnection,
  type Connection,
} from '../connection.js';
import { audit, principalOf, type GraphQLContext } from '../context.js';
import { rowIdOf } from '../ids.js';
import {
  AssetFilter,
  AssetOrder,
  AssetOrderField,
  CreateUploadInput,
  ImportAssetInput,
  OrderDirection,
  UpdateAssetInput,
  UploadAssetInput,
} from '../inputs/asset.input.js';
import { UploadScalar } from '../scalars.js';
import { Asset, PresignedUpload } from '../types/asset.type.js';
import { Space } from '../types/tenancy.type.js';
import { toPublicId } from '../../ids/index.js';

export const AssetConnection = connectionType(Asset, 'Asset');

const auditAsset = (
  ctx: GraphQLContext,
  action: string,
  asset: Asset,
  details: Record<string, unknown> = {},
) =>
  audit(ctx, {
    action,
    resourceType: 'Asset',
    resourceId: asset.id,
    tenantId: asset.entity.tenantId,
    spaceId: asset.entity.spaceId,
    details: { filename: asset.filename, version: asset.version, sha256: asset.sha256, ...details },
  });

@Resolver(() => Asset)
export class AssetResolver {
  @Authorized('assets:read')
  @Query(() => Asset, {
    nullable: true,
    description: 'One asset. Unknown, deleted and foreign ids all answer NOT_FOUND.',
  })
  async asset(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Asset | null> {
    return Asset.from(await ctx.services.assets.get(principalOf(ctx), rowIdOf('Asset', id)));
  }

  @Authorized('assets:read')
  @Query(() => AssetConnection, {
    description: "A page of a space's assets, newest first unless `orderBy` says otherwise.",
  })
  async assets(
    @Arg('spaceId', () => ID) spaceId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg('first', () => Int, { nullable: true }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('filter', () => AssetFilter, { nullable: true }) filter?: AssetFilter,
    @Arg('orderBy', () => AssetOrder, { nullable: true }) orderBy?: AssetOrder,
  ): Promise<Connection<Asset>> {
    const limit = pageSize(first, ctx.limits.maxPageSize);
    const order = {
      field: (orderBy?.field ?? AssetOrderField.CREATED_AT) as AssetSortField,
      direction: orderBy?.direction ?? OrderDirection.DESC,
    };
    const cursor = after === undefined || after === null ? undefined : decodeCursor(after, 4);
    if (cursor !== undefined && (cursor[0] !== order.field || cursor[1] !== order.direction)) {
      throw badInput('This cursor belongs to another order; start again without `after`.', {
        field: 'after',
      });
    }
    const principal = principalOf(ctx);
    // The space is read with its path slugs through the request's loader, so that the URL fields
    // of the page (and `Asset.space`) find it there; `listIn` applies the tenancy rule to it.
    const place = await ctx.loaders.spacePath(rowIdOf('Space', spaceId));
    const rows = await ctx.services.assets.listIn(principal, place?.space ?? null, {
      limit: limit + 1,
      after: cursor && { value: cursor[2]!, id: String(cursor[3]) },
      filter: filter && { ...filter, access: filter.access ?? null },
      order,
    });
    for (const row of rows) ctx.loaders.asset.prime(row.id, row);
    return toConnection(
      rows,
      limit,
      (r) => encodeCursor([order.field, order.direction, sortValue(r, order.field), r.id]),
      Asset.from,
      cursor !== undefined,
    );
  }

  @FieldResolver(() => Space)
  async space(@Root() asset: Asset, @Ctx() ctx: GraphQLContext): Promise<Space> {
    const row = await ctx.loaders.space.load(asset.entity.spaceId);
    if (!row) throw notFound('Space');
    return Space.from(row);
  }

  @Authorized('assets:write')
  @Mutation(() => Asset, {
    description:
      'Uploads a file through a GraphQL multipart request. The same bytes in the same space return the existing asset.',
  })
  async uploadAsset(@Arg('input') input: UploadAssetInput, @Ctx() ctx: GraphQLContext): Promise<Asset> {
    const file = await input.file;
    const { asset, created } = await ctx.services.assets.upload(principalOf(ctx), {
      spaceId: rowIdOf('Space', input.spaceId),
      file: openUpload(file),
      filename: input.filename ?? file.filename,
      access: input.access ?? null,
      tags: input.tags ?? null,
      folder: input.folder ?? null,
    });
    const result = Asset.from(asset);
    await auditAsset(ctx, created ? 'asset.upload' : 'asset.upload.duplicate', result, {
      via: 'graphql-upload',
    });
    return result;
  }

  @Authorized('assets:write')
  @Mutation(() => PresignedUpload, {
    description:
      'Starts a direct upload: the browser POSTs the file as a form to `url` with `fields`, then calls `completeUpload`.',
  })
  async createUpload(
    @Arg('input') input: CreateUploadInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<PresignedUpload> {
    const { upload, post } = await ctx.services.uploads.create(principalOf(ctx), {
      ...input,
      spaceId: rowIdOf('Space', input.spaceId),
      access: input.access ?? null,
    });
    const uploadId = toPublicId('Upload', upload.id);
    await audit(ctx, {
      action: 'upload.create',
      resourceType: 'Upload',
      resourceId: uploadId,
      tenantId: upload.tenantId,
      spaceId: upload.spaceId,
      details: { filename: upload.filename, bytes: upload.bytes },
    });
    return Object.assign(new PresignedUpload(), {
      uploadId,
      url: post.url,
      method: 'POST',
      fields: post.fields,
      expiresAt: post.expiresAt,
      maxBytes: upload.bytes,
    });
  }

  @Authorized('assets:write')
  @Mutation(() => Asset, {
    description: 'Checks and ingests a direct upload. Idempotent: completing twice returns the same asset.',
  })
  async completeUpload(
    @Arg('uploadId', () => ID) uploadId: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Asset> {
    const asset = Asset.from(
      await ctx.services.uploads.complete(principalOf(ctx), rowIdOf('Upload', uploadId)),
    );
    await auditAsset(ctx, 'asset.upload', asset, { via: 'direct-upload', uploadId });
    return asset;
  }

  @Authorized('assets:write')
  @Mutation(() => Asset, {
    description: 'Fetches an image from a public http(s) URL (private networks are refused) and ingests it.',
  })
  async importAsset(@Arg('input') input: ImportAssetInput, @Ctx() ctx: GraphQLContext): Promise<Asset> {
    const asset = Asset.from(
      await ctx.services.imports.import(principalOf(ctx), {
        ...input,
        spaceId: rowIdOf('Space', input.spaceId),
        access: input.access ?? null,
      }),
    );
    await auditAsset(ctx, 'asset.import', asset, { url: input.url });
    return asset;
  }

  @Authorized('assets:write')
  @Mutation(() => Asset, { description: 'Changes filename, tags, folder, access or focal point.' })
  async updateAsset(
    @Arg('id', () => ID) id: string,
    @Arg('input') input: UpdateAssetInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Asset> {
    const asset = Asset.from(
      await ctx.services.assets.update(principalOf(ctx), rowIdOf('Asset', id), {
        filename: input.filename ?? null,
        tags: input.tags ?? null,
        folder: input.folder ?? null,
        access: input.access ?? null,
        focalPoint:
          input.focalPoint === undefined
            ? undefined
            : input.focalPoint && { x: input.focalPoint.x, y: input.focalPoint.y },
      }),
    );
    await auditAsset(ctx, 'asset.update', asset, { changes: { ...input } });
    return asset;
  }

  @Authorized('assets:write')
  @Mutation(() => Asset, {
    description:
      'New bytes for an asset: its version goes up by one and URLs of the old version stop matching.',
  })
  async replaceAsset(
    @Arg('id', () => ID) id: string,
    @Arg('file', () => UploadScalar) file: Promise<FileUpload>,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Asset> {
    const upload = await file;
    const asset = Asset.from(
      await ctx.services.assets.replace(
        principalOf(ctx),
        rowIdOf('Asset', id),
        openUpload(upload),
        upload.filename,
      ),
    );
    await auditAsset(ctx, 'asset.replace', asset);
    return asset;
  }

  @Authorized('assets:write')
  @Mutation(() => Boolean, {
    description: 'Deletes an asset; its original and variants are removed from storage.',
  })
  async deleteAsset(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    const asset = Asset.from(await ctx.services.assets.delete(principalOf(ctx), rowIdOf('Asset', id)));
    await auditAsset(ctx, 'asset.delete', asset);
    return true;
  }
}
