/**
 * Public ids: a type prefix and the row's UUID without dashes (`ast_0190f3a1…`). They tell the
 * type for `node(id)`, read well in URLs and logs, and never expose which rows exist elsewhere:
 * a malformed id and an id of another tenant both answer "not found".
 */

export const ID_PREFIXES = {
  Organization: 'org',
  Tenant: 'ten',
  Space: 'spc',
  ApiKey: 'key',
  SigningKey: 'sgk',
  Asset: 'ast',
  Preset: 'pst',
  Variant: 'var',
  Upload: 'upl',
  AuditEntry: 'aud',
} as const;

export type IdType = keyof typeof ID_PREFIXES;

const TYPE_OF_PREFIX = new Map<string, IdType>(
  (Object.entries(ID_PREFIXES) as [IdType, string][]).map(([type, prefix]) => [prefix, type]),
);

/** Encodes a UUID row id as the public id of `type`. */
export function toPublicId(type: IdType, uuid: string): string {
  return `${ID_PREFIXES[type]}_${uuid.replaceAll('-', '')}`;
}

/** Decodes any public id; `undefined` when malformed. */
export function parsePublicId(id: string): { type: IdType; uuid: string } | undefined {
  const match = /^([a-z]{3})_([0-9a-f]{32})$/.exec(id);
  if (!match) return undefined;
  const type = TYPE_OF_PREFIX.get(match[1]!);
  if (type === undefined) return undefined;
  const h = match[2]!;
  return {
    type,
    uuid: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
  };
}

/** Decodes a public id of the expected type; `undefined` when malformed or of another type. */
export function fromPublicId(type: IdType, id: string): string | undefined {
  const parsed = parsePublicId(id);
  return parsed?.type === type ? parsed.uuid : undefined;
}
