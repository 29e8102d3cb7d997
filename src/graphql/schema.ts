import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { authChecker } from './auth-checker.js';
import { AssetResolver } from './resolvers/asset.resolver.js';
import { AssetDeliveryResolver, VariantResolver } from './resolvers/delivery.resolver.js';
import { AssetProcessingResolver, OperationsResolver } from './resolvers/operations.resolver.js';
import { PresetResolver } from './resolvers/preset.resolver.js';
import { OrganizationQuotaResolver, SpaceQuotaResolver } from './resolvers/quota.resolver.js';
import { ApiKeyResolver, SigningKeyResolver } from './resolvers/credentials.resolver.js';
import { NodeResolver } from './resolvers/node.resolver.js';
import { OrganizationResolver, SpaceResolver, TenantResolver } from './resolvers/tenancy.resolver.js';
import { ViewerResolver } from './resolvers/viewer.resolver.js';

export const resolvers = [
  NodeResolver,
  ViewerResolver,
  OrganizationResolver,
  TenantResolver,
  SpaceResolver,
  ApiKeyResolver,
  SigningKeyResolver,
  AssetResolver,
  AssetDeliveryResolver,
  VariantResolver,
  PresetResolver,
  OperationsResolver,
  AssetProcessingResolver,
  SpaceQuotaResolver,
  OrganizationQuotaResolver,
] as const;

/** Builds the executable schema from the type-graphql classes. */
export async function buildTesseraSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [...resolvers] as [Function, ...Function[]],
    authChecker,
    authMode: 'error',
    validate: false,
  });
}

/** The SDL checked in as `schema/schema.graphql`: sorted, so diffs show real changes only. */
export function printTesseraSchema(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
