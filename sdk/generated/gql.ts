/* eslint-disable */
import * as types from './graphql.js';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
  'fragment AssetDetail on Asset {\n  id\n  version\n  filename\n  mimeType\n  format\n  width\n  height\n  bytes\n  sha256\n  hasAlpha\n  animated\n  frames\n  orientation\n  colorSpace\n  access\n  tags\n  folder\n  exif\n  focalPoint {\n    x\n    y\n  }\n  createdAt\n  updatedAt\n  space {\n    id\n    slug\n  }\n  placeholder {\n    dataUri\n    blurhash\n    dominantColor\n  }\n  preview: image(transform: $preview) {\n    url\n    width\n    height\n    srcSet\n    sizes\n  }\n  processing {\n    status\n    preset {\n      id\n      slug\n      name\n    }\n    variant {\n      id\n      url\n    }\n  }\n  variants(first: $variants) {\n    edges {\n      node {\n        ...VariantFields\n      }\n    }\n  }\n}\n\nfragment VariantFields on Variant {\n  id\n  canonical\n  format\n  width\n  height\n  bytes\n  processingMs\n  createdAt\n  url\n}\n\nquery Asset($id: ID!, $preview: TransformInput, $variants: Int = 50) {\n  asset(id: $id) {\n    ...AssetDetail\n  }\n}\n\nquery AssetImage($id: ID!, $transform: TransformInput, $preset: String) {\n  asset(id: $id) {\n    id\n    image(transform: $transform, preset: $preset) {\n      url\n      width\n      height\n      format\n    }\n  }\n}': typeof types.AssetDetailFragmentDoc;
  'fragment AssetTile on Asset {\n  id\n  filename\n  format\n  width\n  height\n  bytes\n  access\n  tags\n  createdAt\n  placeholder {\n    dataUri\n    blurhash\n    dominantColor\n  }\n  image(transform: $tile, widths: $widths) {\n    url\n    width\n    height\n    srcSet\n    sizes\n  }\n}\n\nquery Assets($spaceId: ID!, $first: Int = 24, $after: String, $filter: AssetFilter, $orderBy: AssetOrder, $tile: TransformInput, $widths: [Int!]) {\n  assets(\n    spaceId: $spaceId\n    first: $first\n    after: $after\n    filter: $filter\n    orderBy: $orderBy\n  ) {\n    edges {\n      cursor\n      node {\n        ...AssetTile\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery AssetTile($id: ID!, $tile: TransformInput, $widths: [Int!]) {\n  asset(id: $id) {\n    ...AssetTile\n  }\n}': typeof types.AssetTileFragmentDoc;
  'mutation TransformAsset($assetId: ID!, $transform: TransformInput, $preset: String) {\n  transformAsset(assetId: $assetId, transform: $transform, preset: $preset) {\n    ...VariantFields\n  }\n}\n\nquery Presets($spaceId: ID!) {\n  presets(spaceId: $spaceId) {\n    id\n    name\n    slug\n    canonical\n    autoGenerate\n    organizationWide\n    matchTags\n    matchFolders\n    transform {\n      width\n      height\n      fit\n      format\n      quality\n    }\n  }\n}': typeof types.TransformAssetDocument;
  'fragment UploadedAsset on Asset {\n  id\n  version\n  filename\n  mimeType\n  format\n  width\n  height\n  bytes\n  sha256\n  tags\n  folder\n  access\n  createdAt\n  placeholder {\n    dataUri\n    blurhash\n    dominantColor\n  }\n}\n\nmutation UploadAsset($input: UploadAssetInput!) {\n  uploadAsset(input: $input) {\n    ...UploadedAsset\n  }\n}\n\nmutation CreateUpload($input: CreateUploadInput!) {\n  createUpload(input: $input) {\n    uploadId\n    url\n    method\n    fields\n    maxBytes\n    expiresAt\n  }\n}\n\nmutation CompleteUpload($uploadId: ID!) {\n  completeUpload(uploadId: $uploadId) {\n    ...UploadedAsset\n  }\n}\n\nmutation ImportAsset($input: ImportAssetInput!) {\n  importAsset(input: $input) {\n    ...UploadedAsset\n  }\n}': typeof types.UploadedAssetFragmentDoc;
  'query Viewer {\n  viewer {\n    kind\n    actorId\n    scopes\n    organization {\n      id\n      slug\n      name\n    }\n  }\n  spaces {\n    id\n    slug\n    name\n    defaultAccess\n    transformPolicy\n    tenant {\n      id\n      slug\n      name\n    }\n  }\n}': typeof types.ViewerDocument;
};
const documents: Documents = {
  'fragment AssetDetail on Asset {\n  id\n  version\n  filename\n  mimeType\n  format\n  width\n  height\n  bytes\n  sha256\n  hasAlpha\n  animated\n  frames\n  orientation\n  colorSpace\n  access\n  tags\n  folder\n  exif\n  focalPoint {\n    x\n    y\n  }\n  createdAt\n  updatedAt\n  space {\n    id\n    slug\n  }\n  placeholder {\n    dataUri\n    blurhash\n    dominantColor\n  }\n  preview: image(transform: $preview) {\n    url\n    width\n    height\n    srcSet\n    sizes\n  }\n  processing {\n    status\n    preset {\n      id\n      slug\n      name\n    }\n    variant {\n      id\n      url\n    }\n  }\n  variants(first: $variants) {\n    edges {\n      node {\n        ...VariantFields\n      }\n    }\n  }\n}\n\nfragment VariantFields on Variant {\n  id\n  canonical\n  format\n  width\n  height\n  bytes\n  processingMs\n  createdAt\n  url\n}\n\nquery Asset($id: ID!, $preview: TransformInput, $variants: Int = 50) {\n  asset(id: $id) {\n    ...AssetDetail\n  }\n}\n\nquery AssetImage($id: ID!, $transform: TransformInput, $preset: String) {\n  asset(id: $id) {\n    id\n    image(transform: $transform, preset: $preset) {\n      url\n      width\n      height\n      format\n    }\n  }\n}':
    types.AssetDetailFragmentDoc,
  'fragment AssetTile on Asset {\n  id\n  filename\n  format\n  width\n  height\n  bytes\n  access\n  tags\n  createdAt\n  placeholder {\n    dataUri\n    blurhash\n    dominantColor\n  }\n  image(transform: $tile, widths: $widths) {\n    url\n    width\n    height\n    srcSet\n    sizes\n  }\n}\n\nquery Assets($spaceId: ID!, $first: Int = 24, $after: String, $filter: AssetFilter, $orderBy: AssetOrder, $tile: TransformInput, $widths: [Int!]) {\n  assets(\n    spaceId: $spaceId\n    first: $first\n    after: $after\n    filter: $filter\n    orderBy: $orderBy\n  ) {\n    edges {\n      cursor\n      node {\n        ...AssetTile\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery AssetTile($id: ID!, $tile: TransformInput, $widths: [Int!]) {\n  asset(id: $id) {\n    ...AssetTile\n  }\n}':
    types.AssetTileFragmentDoc,
  'mutation TransformAsset($assetId: ID!, $transform: TransformInput, $preset: String) {\n  transformAsset(assetId: $assetId, transform: $transform, preset: $preset) {\n    ...VariantFields\n  }\n}\n\nquery Presets($spaceId: ID!) {\n  presets(spaceId: $spaceId) {\n    id\n    name\n    slug\n    canonical\n    autoGenerate\n    organizationWide\n    matchTags\n    matchFolders\n    transform {\n      width\n      height\n      fit\n      format\n      quality\n    }\n  }\n}':
    types.TransformAssetDocument,
  'fragment UploadedAsset on Asset {\n  id\n  version\n  filename\n  mimeType\n  format\n  width\n  height\n  bytes\n  sha256\n  tags\n  folder\n  access\n  createdAt\n  placeholder {\n    dataUri\n    blurhash\n    dominantColor\n  }\n}\n\nmutation UploadAsset($input: UploadAssetInput!) {\n  uploadAsset(input: $input) {\n    ...UploadedAsset\n  }\n}\n\nmutation CreateUpload($input: CreateUploadInput!) {\n  createUpload(input: $input) {\n    uploadId\n    url\n    method\n    fields\n    maxBytes\n    expiresAt\n  }\n}\n\nmutation CompleteUpload($uploadId: ID!) {\n  completeUpload(uploadId: $uploadId) {\n    ...UploadedAsset\n  }\n}\n\nmutation ImportAsset($input: ImportAssetInput!) {\n  importAsset(input: $input) {\n    ...UploadedAsset\n  }\n}':
    types.UploadedAssetFragmentDoc,
  'query Viewer {\n  viewer {\n    kind\n    actorId\n    scopes\n    organization {\n      id\n      slug\n      name\n    }\n  }\n  spaces {\n    id\n    slug\n    name\n    defaultAccess\n    transformPolicy\n    tenant {\n      id\n      slug\n      name\n    }\n  }\n}':
    types.ViewerDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(
  source: 'fragment AssetDetail on Asset {\n  id\n  version\n  filename\n  mimeType\n  format\n  width\n  height\n  bytes\n  sha256\n  hasAlpha\n  animated\n  frames\n  orientation\n  colorSpace\n  access\n  tags\n  folder\n  exif\n  focalPoint {\n    x\n    y\n  }\n  createdAt\n  updatedAt\n  space {\n    id\n    slug\n  }\n  placeholder {\n    dataUri\n    blurhash\n    dominantColor\n  }\n  preview: image(transform: $preview) {\n    url\n    width\n    height\n    srcSet\n    sizes\n  }\n  processing {\n    status\n    preset {\n      id\n      slug\n      name\n    }\n    variant {\n      id\n      url\n    }\n  }\n  variants(first: $variants) {\n    edges {\n      node {\n        ...VariantFields\n      }\n    }\n  }\n}\n\nfragment VariantFields on Variant {\n  id\n  canonical\n  format\n  width\n  height\n  bytes\n  processingMs\n  createdAt\n  url\n}\n\nquery Asset($id: ID!, $preview: TransformInput, $variants: Int = 50) {\n  asset(id: $id) {\n    ...AssetDetail\n  }\n}\n\nquery AssetImage($id: ID!, $transform: TransformInput, $preset: String) {\n  asset(id: $id) {\n    id\n    image(transform: $transform, preset: $preset) {\n      url\n      width\n      height\n      format\n    }\n  }\n}',
): typeof import('./graphql.js').AssetDetailFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(
  source: 'fragment AssetTile on Asset {\n  id\n  filename\n  format\n  width\n  height\n  bytes\n  access\n  tags\n  createdAt\n  placeholder {\n    dataUri\n    blurhash\n    dominantColor\n  }\n  image(transform: $tile, widths: $widths) {\n    url\n    width\n    height\n    srcSet\n    sizes\n  }\n}\n\nquery Assets($spaceId: ID!, $first: Int = 24, $after: String, $filter: AssetFilter, $orderBy: AssetOrder, $tile: TransformInput, $widths: [Int!]) {\n  assets(\n    spaceId: $spaceId\n    first: $first\n    after: $after\n    filter: $filter\n    orderBy: $orderBy\n  ) {\n    edges {\n      cursor\n      node {\n        ...AssetTile\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery AssetTile($id: ID!, $tile: TransformInput, $widths: [Int!]) {\n  asset(id: $id) {\n    ...AssetTile\n  }\n}',
): typeof import('./graphql.js').AssetTileFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(
  source: 'mutation TransformAsset($assetId: ID!, $transform: TransformInput, $preset: String) {\n  transformAsset(assetId: $assetId, transform: $transform, preset: $preset) {\n    ...VariantFields\n  }\n}\n\nquery Presets($spaceId: ID!) {\n  presets(spaceId: $spaceId) {\n    id\n    name\n    slug\n    canonical\n    autoGenerate\n    organizationWide\n    matchTags\n    matchFolders\n    transform {\n      width\n      height\n      fit\n      format\n      quality\n    }\n  }\n}',
): typeof import('./graphql.js').TransformAssetDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(
  source: 'fragment UploadedAsset on Asset {\n  id\n  version\n  filename\n  mimeType\n  format\n  width\n  height\n  bytes\n  sha256\n  tags\n  folder\n  access\n  createdAt\n  placeholder {\n    dataUri\n    blurhash\n    dominantColor\n  }\n}\n\nmutation UploadAsset($input: UploadAssetInput!) {\n  uploadAsset(input: $input) {\n    ...UploadedAsset\n  }\n}\n\nmutation CreateUpload($input: CreateUploadInput!) {\n  createUpload(input: $input) {\n    uploadId\n    url\n    method\n    fields\n    maxBytes\n    expiresAt\n  }\n}\n\nmutation CompleteUpload($uploadId: ID!) {\n  completeUpload(uploadId: $uploadId) {\n    ...UploadedAsset\n  }\n}\n\nmutation ImportAsset($input: ImportAssetInput!) {\n  importAsset(input: $input) {\n    ...UploadedAsset\n  }\n}',
): typeof import('./graphql.js').UploadedAssetFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(
  source: 'query Viewer {\n  viewer {\n    kind\n    actorId\n    scopes\n    organization {\n      id\n      slug\n      name\n    }\n  }\n  spaces {\n    id\n    slug\n    name\n    defaultAccess\n    transformPolicy\n    tenant {\n      id\n      slug\n      name\n    }\n  }\n}',
): typeof import('./graphql.js').ViewerDocument;

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
