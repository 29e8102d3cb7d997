/**
 * Walking a live GraphQL schema by introspection: every query and mutation with argument values
 * built from their types (ID arguments filled with the ids a test chooses, by name), and a selection
 * of the scalar fields of what each returns, nested a few levels, with `__typename` on every
 * object. A new operation is covered the day it is added.
 */

/** A type reference as introspection gives it. */
export interface TypeRef {
  readonly kind: string;
  readonly name: string | null;
  readonly ofType: TypeRef | null;
}

interface InputValue {
  readonly name: string;
  readonly type: TypeRef;
}

interface Field {
  readonly name: string;
  readonly args: readonly InputValue[];
  readonly type: TypeRef;
}

export interface SchemaType {
  readonly kind: string;
  readonly name: string;
  readonly fields: readonly Field[] | null;
  readonly inputFields: readonly InputValue[] | null;
  readonly enumValues: readonly { name: string }[] | null;
  readonly possibleTypes: readonly { name: string }[] | null;
}

export interface IntrospectedSchema {
  readonly queryType: { name: string };
  readonly mutationType: { name: string } | null;
  readonly types: readonly SchemaType[];
}

export const INTROSPECTION_QUERY = `{ __schema {
  queryType { name } mutationType { name }
  types { kind name possibleTypes { name } enumValues { name }
    fields { name args { name type { ...T } } type { ...T } }
    inputFields { name type { ...T } } }
} }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }`;

/** The named type under lists and non-nulls. */
export const namedOf = (ref: TypeRef): string => ref.name ?? (ref.ofType ? namedOf(ref.ofType) : '');
const required = (ref: TypeRef): boolean => ref.kind === 'NON_NULL';
/** `[String!]!` and the like, for a variable definition. */
export const typeString = (ref: TypeRef): string =>
  ref.kind === 'NON_NULL'
    ? `${typeString(ref.ofType!)}!`
    : ref.kind === 'LIST'
      ? `[${typeString(ref.ofType!)}]`
      : ref.name!;

/** The kinds of resources whose ids an operation takes. */
export type IdKind =
  'organization' | 'tenant' | 'space' | 'asset' | 'preset' | 'apiKey' | 'upload' | 'variant';
export const ID_KINDS: readonly IdKind[] = [
  'organization',
  'tenant',
  'space',
  'asset',
  'preset',
  'apiKey',
  'upload',
  'variant',
];

/** The kind of id an argument takes, from its name and its operation's; undefined when it could be any. */
export function idKindOf(argument: string, operation: string): IdKind | undefined {
  const named = /^(tenant|space|asset|preset|upload|variant|organization)Id$/.exec(argument)?.[1];
  if (named) return named as IdKind;
  if (argument === 'apiKeyId') return 'apiKey';
  if (argument !== 'id') return undefined;
  const op = operation.toLowerCase();
  for (const [word, kind] of [
    ['apikey', 'apiKey'],
    ['preset', 'preset'],
    ['asset', 'asset'],
    ['space', 'space'],
    ['tenant', 'tenant'],
    ['upload', 'upload'],
    ['variant', 'variant'],
  ] as const)
    if (op.includes(word)) return kind;
  return undefined;
}

/** A file argument's place in the variables, for a multipart request. */
export const UPLOAD = Symbol('upload');

/** One call of an operation, ready to send. */
export interface OperationCase {
  readonly kind: 'query' | 'mutation';
  readonly field: string;
  readonly document: string;
  readonly variables: Record<string, unknown>;
  /** Paths (`variables.…`) of file arguments, for the multipart map; empty when none. */
  readonly files: readonly string[];
  /** The kinds of the ids given, in order: what the case stands for. */
  readonly ids: readonly IdKind[];
}

/** Argument values that make an operation valid apart from the ids it names. */
function scalarValue(type: string, name: string): unknown {
  switch (type) {
    case 'String':
      if (name === 'url') return 'http://127.0.0.1:9/victim.jpg';
      if (name === 'contentType') return 'image/jpeg';
      if (name === 'slug') return 'matrix-slug';
      if (name === 'background') return 'ffffff';
      if (name === 'filename') return 'matrix.jpg';
      return 'matrix';
    case 'Int':
      return name === 'bytes' ? 1000 : name === 'first' ? 5 : name === 'width' || name === 'height' ? 100 : 1;
    case 'Float':
      return name === 'x' || name === 'y' ? 0.5 : 1;
    case 'Boolean':
      return false;
    case 'DateTimeISO':
      return name === 'from' || name === 'since'
        ? new Date(Date.now() - 86_400_000).toISOString()
        : new Date(Date.now() + 86_400_000).toISOString();
    case 'JSON':
      return {};
    default:
      return undefined;
  }
}

/** Optional input fields worth filling: they would change something if the change were allowed. */
const CHANGING_FIELDS = new Set(['name', 'filename', 'folder', 'tags', 'width']);

/**
 * Every query and mutation of the schema as cases, with ID arguments (required or optional, at
 * any depth of the inputs) taking `ids(kind)`; an argument whose kind the names do not tell is
 * tried with every kind.
 */
export function operationCases(schema: IntrospectedSchema, ids: (kind: IdKind) => string): OperationCase[] {
  const types = new Map(schema.types.map((t) => [t.name, t]));
  const cases: OperationCase[] = [];

  /** Values for a type; an ID yields one value per possible kind. */
  const valuesOf = (
    ref: TypeRef,
    name: string,
    operation: string,
    path: string,
  ): { value: unknown; ids: IdKind[]; files: string[] }[] => {
    if (ref.kind === 'NON_NULL') return valuesOf(ref.ofType!, name, operation, path);
    if (ref.kind === 'LIST')
      return valuesOf(ref.ofType!, name, operation, `${path}.0`).map((v) => ({ ...v, value: [v.value] }));
    const typeName = ref.name!;
    if (typeName === 'ID') {
      const kind = idKindOf(name, operation);
      return (kind ? [kind] : [...ID_KINDS]).map((k) => ({ value: ids(k), ids: [k], files: [] }));
    }
    if (typeName === 'Upload') return [{ value: UPLOAD, ids: [], files: [path] }];
    const type = types.get(typeName);
    if (type?.kind === 'ENUM') return [{ value: type.enumValues![0]!.name, ids: [], files: [] }];
    if (type?.kind === 'INPUT_OBJECT') {
      let combos: { value: Record<string, unknown>; ids: IdKind[]; files: string[] }[] = [
        { value: {}, ids: [], files: [] },
      ];
      for (const field of type.inputFields ?? []) {
        const named = namedOf(field.type);
        const wanted =
          required(field.type) || named === 'ID' || named === 'Upload' || CHANGING_FIELDS.has(field.name);
        if (!wanted) continue;
        const options = valuesOf(field.type, field.name, operation, `${path}.${field.name}`);
        combos = combos.flatMap((c) =>
          options.map((o) => ({
            value: { ...c.value, [field.name]: o.value },
            ids: [...c.ids, ...o.ids],
            files: [...c.files, ...o.files],
          })),
        );
      }
      return combos;
    }
    return [{ value: scalarValue(typeName, name), ids: [], files: [] }];
  };

  /**
   * The selection of a composite type. In the fragments of an interface's possible types, a field
   * whose type differs between them (`space: Space!` here, `space: Space` there) is aliased
   * `{Type}_{field}`, since GraphQL cannot merge the two.
   */
  const selectionOf = (
    ref: TypeRef,
    depth: number,
    conflicting: ReadonlySet<string> = new Set(),
    owner = '',
  ): string => {
    const type = types.get(namedOf(ref));
    if (!type || (type.kind !== 'OBJECT' && type.kind !== 'INTERFACE' && type.kind !== 'UNION')) return '';
    const parts = ['__typename'];
    for (const field of type.fields ?? []) {
      if (field.args.some((a) => required(a.type))) continue;
      const named = types.get(namedOf(field.type));
      const composite = named && (named.kind === 'OBJECT' || named.kind === 'INTERFACE');
      const name = conflicting.has(field.name) ? `${owner}_${field.name}: ${field.name}` : field.name;
      if (!composite) parts.push(name);
      else if (depth < 3 && !(depth >= 2 && named.name.endsWith('Connection')))
        parts.push(`${name} ${selectionOf(field.type, depth + 1)}`);
    }
    const possibles = type.kind === 'OBJECT' ? [] : (type.possibleTypes ?? []);
    const seen = new Map<string, string>();
    const clashes = new Set<string>();
    for (const possible of possibles)
      for (const field of types.get(possible.name)?.fields ?? []) {
        const shape = typeString(field.type);
        if (seen.has(field.name) && seen.get(field.name) !== shape) clashes.add(field.name);
        seen.set(field.name, seen.get(field.name) ?? shape);
      }
    for (const possible of possibles) {
      const inner = selectionOf(
        { kind: 'OBJECT', name: possible.name, ofType: null },
        depth + 1,
        clashes,
        possible.name,
      );
      if (inner) parts.push(`... on ${possible.name} ${inner}`);
    }
    return `{ ${parts.join(' ')} }`;
  };

  for (const [kind, root] of [
    ['query', schema.queryType.name],
    ['mutation', schema.mutationType?.name],
  ] as const) {
    if (!root) continue;
    for (const field of types.get(root)?.fields ?? []) {
      let combos: { vars: Record<string, unknown>; ids: IdKind[]; files: string[] }[] = [
        { vars: {}, ids: [], files: [] },
      ];
      const definitions: string[] = [];
      const uses: string[] = [];
      for (const [i, arg] of field.args.entries()) {
        const named = namedOf(arg.type);
        const type = types.get(named);
        const carriesIds =
          named === 'ID' ||
          (type?.kind === 'INPUT_OBJECT' && JSON.stringify(type.inputFields).includes('"ID"'));
        if (!required(arg.type) && !carriesIds) continue;
        const variable = `a${i}`;
        definitions.push(`$${variable}: ${typeString(arg.type)}`);
        uses.push(`${arg.name}: $${variable}`);
        const options = valuesOf(arg.type, arg.name, field.name, `variables.${variable}`);
        combos = combos.flatMap((c) =>
          options.map((o) => ({
            vars: { ...c.vars, [variable]: o.value },
            ids: [...c.ids, ...o.ids],
            files: [...c.files, ...o.files],
          })),
        );
      }
      const document = `${kind}${definitions.length ? `(${definitions.join(', ')})` : ''} { ${field.name}${uses.length ? `(${uses.join(', ')})` : ''} ${selectionOf(field.type, 1)} }`;
      for (const combo of combos)
        cases.push({
          kind,
          field: field.name,
          document,
          variables: combo.vars,
          files: combo.files,
          ids: combo.ids,
        });
    }
  }
  return cases;
}

/** `variables` with every file argument set to null (the multipart map fills them). */
export function withoutFiles(value: unknown): unknown {
  if (value === UPLOAD) return null;
  if (Array.isArray(value)) return value.map(withoutFiles);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutFiles(v)]));
  return value;
}
