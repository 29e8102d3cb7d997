import { registerEnumType } from 'type-graphql';

/** Who may fetch an asset's image URLs. */
export enum AccessEnum {
  PUBLIC = 'public',
  PRIVATE = 'private',
}
registerEnumType(AccessEnum, {
  name: 'Access',
  description: 'PUBLIC images get CDN-cacheable URLs; PRIVATE images get signed, expiring URLs.',
});

/** Which image URLs a space serves. */
export enum TransformPolicyEnum {
  ANY = 'any',
  PRESETS = 'presets',
  SIGNED = 'signed',
}
registerEnumType(TransformPolicyEnum, {
  name: 'TransformPolicy',
  description: 'Which transforms a space serves from its image URLs.',
  valuesConfig: {
    ANY: { description: 'Any transform in a URL.' },
    PRESETS: { description: 'Only `original` and presets; ad-hoc transforms are refused.' },
    SIGNED: { description: 'Ad-hoc transforms only with a signed URL; presets and originals as usual.' },
  },
});

/** What an API key or token may do. */
export enum ScopeEnum {
  ASSETS_READ = 'assets:read',
  ASSETS_WRITE = 'assets:write',
  PRESETS_WRITE = 'presets:write',
  ADMIN = 'admin',
}
registerEnumType(ScopeEnum, {
  name: 'Scope',
  description: 'Permissions of a key. ADMIN implies all; ASSETS_WRITE and PRESETS_WRITE imply ASSETS_READ.',
});

export enum PrincipalKindEnum {
  API_KEY = 'api_key',
  JWT = 'jwt',
  SYSTEM = 'system',
}
registerEnumType(PrincipalKindEnum, { name: 'PrincipalKind', description: 'How the caller authenticated.' });

export enum SigningKeyStatusEnum {
  ACTIVE = 'active',
  RETIRING = 'retiring',
  RETIRED = 'retired',
}
registerEnumType(SigningKeyStatusEnum, {
  name: 'SigningKeyStatus',
  description:
    'ACTIVE signs new URLs; RETIRING still verifies until `verifyUntil`; RETIRED verifies nothing.',
});

/** What an image URL whose width is off the space's ladder gets. */
export enum WidthPolicyEnum {
  ANY = 'any',
  SNAP = 'snap',
  REFUSE = 'refuse',
}
registerEnumType(WidthPolicyEnum, {
  name: 'WidthPolicy',
  description: 'What a URL whose w_ is not one of the widths the space serves gets.',
  valuesConfig: {
    ANY: { description: 'Served as asked.' },
    SNAP: { description: '301 to the next width up: at most one variant per width of the ladder.' },
    REFUSE: { description: '400 naming the width.' },
  },
});
