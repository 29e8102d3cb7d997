/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> =
  T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** PUBLIC images get CDN-cacheable URLs; PRIVATE images get signed, expiring URLs. */
export type Access = 'PRIVATE' | 'PUBLIC';

export type AssetFilter = {
  access?: Access | null | undefined;
  createdAfter?: string | null | undefined;
  createdBefore?: string | null | undefined;
  /** Exact folder ("" for the root). */
  folder?: string | null | undefined;
  /** Source formats: jpeg, png, webp, avif, gif, tiff. */
  formats?: Array<string> | null | undefined;
  /** With `folder`, include its subfolders. */
  includeSubfolders?: boolean | null | undefined;
  /** Case-insensitive part of the filename. */
  search?: string | null | undefined;
  /** Assets carrying every one of these tags. */
  tags?: Array<string> | null | undefined;
};

export type AssetOrder = {
  direction?: OrderDirection;
  field?: AssetOrderField;
};

export type AssetOrderField = 'BYTES' | 'CREATED_AT' | 'FILENAME' | 'UPDATED_AT';

/** A corner of the image. */
export type Corner = 'NORTH_EAST' | 'NORTH_WEST' | 'SOUTH_EAST' | 'SOUTH_WEST';

export type CreateUploadInput = {
  access?: Access | null | undefined;
  /** Size of the file, bytes: the upload may carry at most this many. */
  bytes: number;
  /** The media type the browser will send: image/jpeg, image/png, image/webp, image/avif, image/gif or image/tiff. */
  contentType: string;
  filename: string;
  folder?: string | null | undefined;
  spaceId: string | number;
  tags?: Array<string> | null | undefined;
};

/** A region of the source, px, after EXIF orientation. */
export type CropInput = {
  height: number;
  width: number;
  x: number;
  y: number;
};

/** With both w and h: cover crops to fill the box; contain letterboxes with b_; fill stretches; inside fits within, keeping the ratio; outside covers, keeping the ratio; pad is contain without enlarging the image. */
export type Fit = 'CONTAIN' | 'COVER' | 'FILL' | 'INSIDE' | 'OUTSIDE' | 'PAD';

/** What cover keeps (compass point, attention = salient region, entropy = busiest region, focal = the asset focal point), or where contain/pad places the image. */
export type Gravity =
  | 'ATTENTION'
  | 'CENTER'
  | 'EAST'
  | 'ENTROPY'
  | 'FOCAL'
  | 'NORTH'
  | 'NORTH_EAST'
  | 'NORTH_WEST'
  | 'SOUTH'
  | 'SOUTH_EAST'
  | 'SOUTH_WEST'
  | 'WEST';

/** Output format; auto picks AVIF, WebP or JPEG (PNG with alpha) from the Accept header and answers with Vary: Accept. */
export type ImageFormat = 'AUTO' | 'AVIF' | 'GIF' | 'JPG' | 'PNG' | 'WEBP';

export type ImportAssetInput = {
  access?: Access | null | undefined;
  filename?: string | null | undefined;
  folder?: string | null | undefined;
  spaceId: string | number;
  tags?: Array<string> | null | undefined;
  /** http(s) URL of an image on the public internet. */
  url: string;
};

export type OrderDirection = 'ASC' | 'DESC';

/** How the caller authenticated. */
export type PrincipalKind = 'API_KEY' | 'JWT' | 'SYSTEM';

/** Where an eager variant stands. */
export type ProcessingStatus = 'DONE' | 'FAILED' | 'PENDING';

/** Permissions of a key. ADMIN implies all; ASSETS_WRITE and PRESETS_WRITE imply ASSETS_READ. */
export type Scope = 'ADMIN' | 'ASSETS_READ' | 'ASSETS_WRITE' | 'PRESETS_WRITE';

/** An image transform. Every field is optional; see the URL grammar for what each does. */
export type TransformInput = {
  /** Colour of letterbox padding and of transparent areas in formats without alpha. Range: white for JPEG, transparent otherwise. URL token: b_. */
  background?: string | null | undefined;
  /** Gaussian blur. Range: 0.3–1000. URL token: blur_. */
  blur?: number | null | undefined;
  /** Crop a region of the source (after EXIF orientation) before anything else. Range: inside the source. URL token: c_. */
  crop?: CropInput | null | undefined;
  /** Device pixel ratio: multiplies w and h (the canonical URL carries the product: w_300-dpr_2 is w_600). Range: 1–4. URL token: dpr_. */
  dpr?: number | null | undefined;
  /** With both w and h: cover crops to fill the box; contain letterboxes with b_; fill stretches; inside fits within, keeping the ratio; outside covers, keeping the ratio; pad is contain without enlarging the image. Range: cover. URL token: f_. */
  fit?: Fit | null | undefined;
  /** Mirror vertically (top to bottom). URL token: flip. */
  flip?: boolean | null | undefined;
  /** Mirror horizontally (left to right). URL token: flop. */
  flop?: boolean | null | undefined;
  /** Output format; auto picks AVIF, WebP or JPEG (PNG with alpha) from the Accept header and answers with Vary: Accept. Range: the URL extension. URL token: fmt_. */
  format?: ImageFormat | null | undefined;
  /** What cover keeps (compass point, attention = salient region, entropy = busiest region, focal = the asset focal point), or where contain/pad places the image. Range: center. URL token: g_. */
  gravity?: Gravity | null | undefined;
  /** Black and white. URL token: bw. */
  grayscale?: boolean | null | undefined;
  /** Output height. Range: 1–MAX_OUTPUT_DIMENSION. URL token: h_. */
  height?: number | null | undefined;
  /** Encoder quality; auto picks a sensible value per format (JPEG 80, WebP 80, AVIF 50). Range: 1–100, auto. URL token: q_. */
  quality?: number | null | undefined;
  /** Rotate clockwise (after EXIF auto-orientation, before resizing: w and h describe the output). Range: 0. URL token: r_. */
  rotate?: number | null | undefined;
  /** Sharpen (unsharp mask on the luminance). Range: 0.3–10. URL token: sharpen_. */
  sharpen?: number | null | undefined;
  /** Text watermark in a corner. Always the last token: its value runs to the end of the ops. Range: corner se. URL token: wm_. */
  watermark?: WatermarkInput | null | undefined;
  /** Output width. Alone, the height follows the aspect ratio; images are never enlarged unless both sides are given. Range: 1–MAX_OUTPUT_DIMENSION. URL token: w_. */
  width?: number | null | undefined;
};

/** Which transforms a space serves from its image URLs. */
export type TransformPolicy =
  /** Any transform in a URL. */
  | 'ANY'
  /** Only `original` and presets; ad-hoc transforms are refused. */
  | 'PRESETS'
  /** Ad-hoc transforms only with a signed URL; presets and originals as usual. */
  | 'SIGNED';

export type UploadAssetInput = {
  /** Defaults to the space's default access. */
  access?: Access | null | undefined;
  /** The file (multipart request; send the header `apollo-require-preflight: true`). */
  file: File;
  /** Defaults to the uploaded file's name. */
  filename?: string | null | undefined;
  folder?: string | null | undefined;
  spaceId: string | number;
  tags?: Array<string> | null | undefined;
};

/** Text drawn in a corner. */
export type WatermarkInput = {
  /** Defaults to SOUTH_EAST. */
  position?: Corner | null | undefined;
  /** 1 to 100 characters. */
  text: string;
};

export type AssetDetailFragment = {
  id: string;
  version: number;
  filename: string;
  mimeType: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
  hasAlpha: boolean;
  animated: boolean;
  frames: number;
  orientation: number;
  colorSpace: string | null;
  access: Access;
  tags: Array<string>;
  folder: string;
  exif: unknown;
  createdAt: string;
  updatedAt: string;
  focalPoint: { x: number; y: number } | null;
  space: { id: string; slug: string };
  placeholder: { dataUri: string; blurhash: string; dominantColor: string };
  preview: { url: string; width: number; height: number; srcSet: string; sizes: string };
  processing: Array<{
    status: ProcessingStatus;
    preset: { id: string; slug: string; name: string };
    variant: { id: string; url: string } | null;
  }>;
  variants: {
    edges: Array<{
      node: {
        id: string;
        canonical: string;
        format: string;
        width: number;
        height: number;
        bytes: number;
        processingMs: number;
        createdAt: string;
        url: string;
      };
    }>;
  };
};

export type VariantFieldsFragment = {
  id: string;
  canonical: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  processingMs: number;
  createdAt: string;
  url: string;
};

export type AssetQueryVariables = Exact<{
  id: string | number;
  preview?: TransformInput | null | undefined;
  variants?: number | null | undefined;
}>;

export type AssetQuery = {
  asset: {
    id: string;
    version: number;
    filename: string;
    mimeType: string;
    format: string;
    width: number;
    height: number;
    bytes: number;
    sha256: string;
    hasAlpha: boolean;
    animated: boolean;
    frames: number;
    orientation: number;
    colorSpace: string | null;
    access: Access;
    tags: Array<string>;
    folder: string;
    exif: unknown;
    createdAt: string;
    updatedAt: string;
    focalPoint: { x: number; y: number } | null;
    space: { id: string; slug: string };
    placeholder: { dataUri: string; blurhash: string; dominantColor: string };
    preview: { url: string; width: number; height: number; srcSet: string; sizes: string };
    processing: Array<{
      status: ProcessingStatus;
      preset: { id: string; slug: string; name: string };
      variant: { id: string; url: string } | null;
    }>;
    variants: {
      edges: Array<{
        node: {
          id: string;
          canonical: string;
          format: string;
          width: number;
          height: number;
          bytes: number;
          processingMs: number;
          createdAt: string;
          url: string;
        };
      }>;
    };
  } | null;
};

export type AssetImageQueryVariables = Exact<{
  id: string | number;
  transform?: TransformInput | null | undefined;
  preset?: string | null | undefined;
}>;

export type AssetImageQuery = {
  asset: { id: string; image: { url: string; width: number; height: number; format: string } } | null;
};

export type AssetTileFragment = {
  id: string;
  filename: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  access: Access;
  tags: Array<string>;
  createdAt: string;
  placeholder: { dataUri: string; blurhash: string; dominantColor: string };
  image: { url: string; width: number; height: number; srcSet: string; sizes: string };
};

export type AssetsQueryVariables = Exact<{
  spaceId: string | number;
  first?: number | null | undefined;
  after?: string | null | undefined;
  filter?: AssetFilter | null | undefined;
  orderBy?: AssetOrder | null | undefined;
  tile?: TransformInput | null | undefined;
  widths?: Array<number> | number | null | undefined;
}>;

export type AssetsQuery = {
  assets: {
    edges: Array<{
      cursor: string;
      node: {
        id: string;
        filename: string;
        format: string;
        width: number;
        height: number;
        bytes: number;
        access: Access;
        tags: Array<string>;
        createdAt: string;
        placeholder: { dataUri: string; blurhash: string; dominantColor: string };
        image: { url: string; width: number; height: number; srcSet: string; sizes: string };
      };
    }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
};

export type AssetTileQueryVariables = Exact<{
  id: string | number;
  tile?: TransformInput | null | undefined;
  widths?: Array<number> | number | null | undefined;
}>;

export type AssetTileQuery = {
  asset: {
    id: string;
    filename: string;
    format: string;
    width: number;
    height: number;
    bytes: number;
    access: Access;
    tags: Array<string>;
    createdAt: string;
    placeholder: { dataUri: string; blurhash: string; dominantColor: string };
    image: { url: string; width: number; height: number; srcSet: string; sizes: string };
  } | null;
};

export type TransformAssetMutationVariables = Exact<{
  assetId: string | number;
  transform?: TransformInput | null | undefined;
  preset?: string | null | undefined;
}>;

export type TransformAssetMutation = {
  transformAsset: {
    id: string;
    canonical: string;
    format: string;
    width: number;
    height: number;
    bytes: number;
    processingMs: number;
    createdAt: string;
    url: string;
  };
};

export type PresetsQueryVariables = Exact<{
  spaceId: string | number;
}>;

export type PresetsQuery = {
  presets: Array<{
    id: string;
    name: string;
    slug: string;
    canonical: string;
    autoGenerate: boolean;
    organizationWide: boolean;
    matchTags: Array<string>;
    matchFolders: Array<string>;
    transform: {
      width: number | null;
      height: number | null;
      fit: Fit | null;
      format: ImageFormat | null;
      quality: number | null;
    };
  }>;
};

export type UploadedAssetFragment = {
  id: string;
  version: number;
  filename: string;
  mimeType: string;
  format: string;
  width: number;
  height: number;
  bytes: number;
  sha256: string;
  tags: Array<string>;
  folder: string;
  access: Access;
  createdAt: string;
  placeholder: { dataUri: string; blurhash: string; dominantColor: string };
};

export type UploadAssetMutationVariables = Exact<{
  input: UploadAssetInput;
}>;

export type UploadAssetMutation = {
  uploadAsset: {
    id: string;
    version: number;
    filename: string;
    mimeType: string;
    format: string;
    width: number;
    height: number;
    bytes: number;
    sha256: string;
    tags: Array<string>;
    folder: string;
    access: Access;
    createdAt: string;
    placeholder: { dataUri: string; blurhash: string; dominantColor: string };
  };
};

export type CreateUploadMutationVariables = Exact<{
  input: CreateUploadInput;
}>;

export type CreateUploadMutation = {
  createUpload: {
    uploadId: string;
    url: string;
    method: string;
    fields: unknown;
    maxBytes: number;
    expiresAt: string;
  };
};

export type CompleteUploadMutationVariables = Exact<{
  uploadId: string | number;
}>;

export type CompleteUploadMutation = {
  completeUpload: {
    id: string;
    version: number;
    filename: string;
    mimeType: string;
    format: string;
    width: number;
    height: number;
    bytes: number;
    sha256: string;
    tags: Array<string>;
    folder: string;
    access: Access;
    createdAt: string;
    placeholder: { dataUri: string; blurhash: string; dominantColor: string };
  };
};

export type ImportAssetMutationVariables = Exact<{
  input: ImportAssetInput;
}>;

export type ImportAssetMutation = {
  importAsset: {
    id: string;
    version: number;
    filename: string;
    mimeType: string;
    format: string;
    width: number;
    height: number;
    bytes: number;
    sha256: string;
    tags: Array<string>;
    folder: string;
    access: Access;
    createdAt: string;
    placeholder: { dataUri: string; blurhash: string; dominantColor: string };
  };
};

export type ViewerQueryVariables = Exact<{ [key: string]: never }>;

export type ViewerQuery = {
  viewer: {
    kind: PrincipalKind;
    actorId: string;
    scopes: Array<Scope>;
    organization: { id: string; slug: string; name: string };
  };
  spaces: Array<{
    id: string;
    slug: string;
    name: string;
    defaultAccess: Access;
    transformPolicy: TransformPolicy;
    tenant: { id: string; slug: string; name: string };
  }>;
};

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const VariantFieldsFragmentDoc = new TypedDocumentString(
  `
    fragment VariantFields on Variant {
  id
  canonical
  format
  width
  height
  bytes
  processingMs
  createdAt
  url
}
    `,
  { fragmentName: 'VariantFields' },
) as unknown as TypedDocumentString<VariantFieldsFragment, unknown>;
export const AssetDetailFragmentDoc = new TypedDocumentString(
  `
    fragment AssetDetail on Asset {
  id
  version
  filename
  mimeType
  format
  width
  height
  bytes
  sha256
  hasAlpha
  animated
  frames
  orientation
  colorSpace
  access
  tags
  folder
  exif
  focalPoint {
    x
    y
  }
  createdAt
  updatedAt
  space {
    id
    slug
  }
  placeholder {
    dataUri
    blurhash
    dominantColor
  }
  preview: image(transform: $preview) {
    url
    width
    height
    srcSet
    sizes
  }
  processing {
    status
    preset {
      id
      slug
      name
    }
    variant {
      id
      url
    }
  }
  variants(first: $variants) {
    edges {
      node {
        ...VariantFields
      }
    }
  }
}
    fragment VariantFields on Variant {
  id
  canonical
  format
  width
  height
  bytes
  processingMs
  createdAt
  url
}`,
  { fragmentName: 'AssetDetail' },
) as unknown as TypedDocumentString<AssetDetailFragment, unknown>;
export const AssetTileFragmentDoc = new TypedDocumentString(
  `
    fragment AssetTile on Asset {
  id
  filename
  format
  width
  height
  bytes
  access
  tags
  createdAt
  placeholder {
    dataUri
    blurhash
    dominantColor
  }
  image(transform: $tile, widths: $widths) {
    url
    width
    height
    srcSet
    sizes
  }
}
    `,
  { fragmentName: 'AssetTile' },
) as unknown as TypedDocumentString<AssetTileFragment, unknown>;
export const UploadedAssetFragmentDoc = new TypedDocumentString(
  `
    fragment UploadedAsset on Asset {
  id
  version
  filename
  mimeType
  format
  width
  height
  bytes
  sha256
  tags
  folder
  access
  createdAt
  placeholder {
    dataUri
    blurhash
    dominantColor
  }
}
    `,
  { fragmentName: 'UploadedAsset' },
) as unknown as TypedDocumentString<UploadedAssetFragment, unknown>;
export const AssetDocument = new TypedDocumentString(`
    query Asset($id: ID!, $preview: TransformInput, $variants: Int = 50) {
  asset(id: $id) {
    ...AssetDetail
  }
}
    fragment AssetDetail on Asset {
  id
  version
  filename
  mimeType
  format
  width
  height
  bytes
  sha256
  hasAlpha
  animated
  frames
  orientation
  colorSpace
  access
  tags
  folder
  exif
  focalPoint {
    x
    y
  }
  createdAt
  updatedAt
  space {
    id
    slug
  }
  placeholder {
    dataUri
    blurhash
    dominantColor
  }
  preview: image(transform: $preview) {
    url
    width
    height
    srcSet
    sizes
  }
  processing {
    status
    preset {
      id
      slug
      name
    }
    variant {
      id
      url
    }
  }
  variants(first: $variants) {
    edges {
      node {
        ...VariantFields
      }
    }
  }
}
fragment VariantFields on Variant {
  id
  canonical
  format
  width
  height
  bytes
  processingMs
  createdAt
  url
}`) as unknown as TypedDocumentString<AssetQuery, AssetQueryVariables>;
export const AssetImageDocument = new TypedDocumentString(`
    query AssetImage($id: ID!, $transform: TransformInput, $preset: String) {
  asset(id: $id) {
    id
    image(transform: $transform, preset: $preset) {
      url
      width
      height
      format
    }
  }
}
    `) as unknown as TypedDocumentString<AssetImageQuery, AssetImageQueryVariables>;
export const AssetsDocument = new TypedDocumentString(`
    query Assets($spaceId: ID!, $first: Int = 24, $after: String, $filter: AssetFilter, $orderBy: AssetOrder, $tile: TransformInput, $widths: [Int!]) {
  assets(
    spaceId: $spaceId
    first: $first
    after: $after
    filter: $filter
    orderBy: $orderBy
  ) {
    edges {
      cursor
      node {
        ...AssetTile
      }
    }
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    fragment AssetTile on Asset {
  id
  filename
  format
  width
  height
  bytes
  access
  tags
  createdAt
  placeholder {
    dataUri
    blurhash
    dominantColor
  }
  image(transform: $tile, widths: $widths) {
    url
    width
    height
    srcSet
    sizes
  }
}`) as unknown as TypedDocumentString<AssetsQuery, AssetsQueryVariables>;
export const AssetTileDocument = new TypedDocumentString(`
    query AssetTile($id: ID!, $tile: TransformInput, $widths: [Int!]) {
  asset(id: $id) {
    ...AssetTile
  }
}
    fragment AssetTile on Asset {
  id
  filename
  format
  width
  height
  bytes
  access
  tags
  createdAt
  placeholder {
    dataUri
    blurhash
    dominantColor
  }
  image(transform: $tile, widths: $widths) {
    url
    width
    height
    srcSet
    sizes
  }
}`) as unknown as TypedDocumentString<AssetTileQuery, AssetTileQueryVariables>;
export const TransformAssetDocument = new TypedDocumentString(`
    mutation TransformAsset($assetId: ID!, $transform: TransformInput, $preset: String) {
  transformAsset(assetId: $assetId, transform: $transform, preset: $preset) {
    ...VariantFields
  }
}
    fragment VariantFields on Variant {
  id
  canonical
  format
  width
  height
  bytes
  processingMs
  createdAt
  url
}`) as unknown as TypedDocumentString<TransformAssetMutation, TransformAssetMutationVariables>;
export const PresetsDocument = new TypedDocumentString(`
    query Presets($spaceId: ID!) {
  presets(spaceId: $spaceId) {
    id
    name
    slug
    canonical
    autoGenerate
    organizationWide
    matchTags
    matchFolders
    transform {
      width
      height
      fit
      format
      quality
    }
  }
}
    `) as unknown as TypedDocumentString<PresetsQuery, PresetsQueryVariables>;
export const UploadAssetDocument = new TypedDocumentString(`
    mutation UploadAsset($input: UploadAssetInput!) {
  uploadAsset(input: $input) {
    ...UploadedAsset
  }
}
    fragment UploadedAsset on Asset {
  id
  version
  filename
  mimeType
  format
  width
  height
  bytes
  sha256
  tags
  folder
  access
  createdAt
  placeholder {
    dataUri
    blurhash
    dominantColor
  }
}`) as unknown as TypedDocumentString<UploadAssetMutation, UploadAssetMutationVariables>;
export const CreateUploadDocument = new TypedDocumentString(`
    mutation CreateUpload($input: CreateUploadInput!) {
  createUpload(input: $input) {
    uploadId
    url
    method
    fields
    maxBytes
    expiresAt
  }
}
    `) as unknown as TypedDocumentString<CreateUploadMutation, CreateUploadMutationVariables>;
export const CompleteUploadDocument = new TypedDocumentString(`
    mutation CompleteUpload($uploadId: ID!) {
  completeUpload(uploadId: $uploadId) {
    ...UploadedAsset
  }
}
    fragment UploadedAsset on Asset {
  id
  version
  filename
  mimeType
  format
  width
  height
  bytes
  sha256
  tags
  folder
  access
  createdAt
  placeholder {
    dataUri
    blurhash
    dominantColor
  }
}`) as unknown as TypedDocumentString<CompleteUploadMutation, CompleteUploadMutationVariables>;
export const ImportAssetDocument = new TypedDocumentString(`
    mutation ImportAsset($input: ImportAssetInput!) {
  importAsset(input: $input) {
    ...UploadedAsset
  }
}
    fragment UploadedAsset on Asset {
  id
  version
  filename
  mimeType
  format
  width
  height
  bytes
  sha256
  tags
  folder
  access
  createdAt
  placeholder {
    dataUri
    blurhash
    dominantColor
  }
}`) as unknown as TypedDocumentString<ImportAssetMutation, ImportAssetMutationVariables>;
export const ViewerDocument = new TypedDocumentString(`
    query Viewer {
  viewer {
    kind
    actorId
    scopes
    organization {
      id
      slug
      name
    }
  }
  spaces {
    id
    slug
    name
    defaultAccess
    transformPolicy
    tenant {
      id
      slug
      name
    }
  }
}
    `) as unknown as TypedDocumentString<ViewerQuery, ViewerQueryVariables>;
