import type { ApolloServerPlugin } from '@apollo/server';
import {
  GraphQLError,
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  visit,
} from 'graphql';
import { ErrorCode } from '../errors/index.js';

export interface QueryLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxCost: number;
  /** Page size assumed for a connection without `first`, and the cap on any `first`. */
  readonly defaultPageSize: number;
  readonly maxPageSize: number;
}

export interface QueryMeasure {
  depth: number;
  aliases: number;
  cost: number;
}

function intValue(
  node: ValueNode | undefined,
  variables: Readonly<Record<string, unknown>>,
): number | undefined {
  if (!node) return undefined;
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) {
    const v = variables[node.name.value];
    return typeof v === 'number' ? v : undefined;
  }
  return undefined;
}

/**
 * Depth, aliases and estimated cost of an operation, fragments inlined: each field costs 1, times
 * the page sizes (`first`, or the default) of the connections that enclose it.
 */
export function measureOperation(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  variables: Readonly<Record<string, unknown>>,
  limits: QueryLimits,
): QueryMeasure {
  const measure: QueryMeasure = { depth: 0, aliases: 0, cost: 0 };
  const root =
    operation.operation === 'mutation'
      ? schema.getMutationType()
      : operation.operation === 'subscription'
        ? schema.getSubscriptionType()
        : schema.getQueryType();
  const walk = (
    set: SelectionSetNode,
    type: GraphQLNamedType | null | undefined,
    depth: number,
    multiplier: number,
    seen: ReadonlySet<string>,
  ): void => {
    measure.depth = Math.max(measure.depth, depth);
    // Stop early: the answer is "too big" already, and hostile documents may be huge.
    if (measure.cost > limits.maxCost * 10 || measure.depth > limits.maxDepth * 4) return;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.alias) measure.aliases += 1;
        measure.cost += multiplier;
        if (!selection.selectionSet) continue;
        const fields = type && (isObjectType(type) || isInterfaceType(type)) ? type.getFields() : undefined;
        const field = fields?.[selection.name.value];
        const childType = field ? getNamedType(field.type) : undefined;
        let next = multiplier;
        if (childType?.name.endsWith('Connection')) {
          const first = intValue(
            selection.arguments?.find((a) => a.name.value === 'first')?.value,
            variables,
          );
          next = multiplier * Math.min(limits.maxPageSize, Math.max(1, first ?? limits.defaultPageSize));
        }
        walk(selection.selectionSet, childType, depth + 1, next, seen);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const cond = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        walk(selection.selectionSet, cond, depth, multiplier, seen);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || seen.has(name)) continue;
        walk(
          fragment.selectionSet,
          schema.getType(fragment.typeCondition.name.value),
          depth,
          multiplier,
          new Set([...seen, name]),
        );
      }
    }
  };
  walk(operation.selectionSet, root, 1, 1, new Set());
  return measure;
}

const refuse = (message: string, details: Record<string, number>): GraphQLError =>
  new GraphQLError(message, {
    extensions: { code: ErrorCode.LimitExceeded, details, http: { status: 400 } },
  });

/** Checks every operation of a request against the limits before it executes. */
export function checkDocument(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>>,
  limits: QueryLimits,
): void {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  for (const d of document.definitions) {
    if (d.kind !== Kind.OPERATION_DEFINITION) continue;
    if (operationName && d.name?.value !== operationName) continue;
    const m = measureOperation(schema, d, fragments, variables, limits);
    if (m.aliases > limits.maxAliases)
      throw refuse(`The operation uses ${m.aliases} aliases; at most ${limits.maxAliases} are allowed.`, {
        aliases: m.aliases,
        maxAliases: limits.maxAliases,
      });
    if (m.depth > limits.maxDepth)
      throw refuse(`The operation is ${m.depth} levels deep; at most ${limits.maxDepth} are allowed.`, {
        depth: m.depth,
        maxDepth: limits.maxDepth,
      });
    if (m.cost > limits.maxCost)
      throw refuse(
        `The operation's estimated cost is ${m.cost}; at most ${limits.maxCost} is allowed (ask for smaller pages).`,
        { cost: m.cost, maxCost: limits.maxCost },
      );
  }
}

/** NUL, and a surrogate without its pair (text with either cannot be stored: it has no UTF-8 form in PostgreSQL). */
const UNSTORABLE = /\u0000|\p{Cs}/u;

/** Where the first string holding unstorable text is in `value` (a variables object), if anywhere. */
function unstorableIn(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? path : undefined;
  if (value === null || typeof value !== 'object' || depth > 16) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = unstorableIn(item, `${path}.${key}`, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Refuses text holding a NUL character or a lone surrogate, in the variables or in the document's
 * string literals: no name, tag, filename or filter can hold one (PostgreSQL refuses both in text
 * and JSON), so it is bad input here rather than a failed query later.
 * @throws GraphQLError BAD_USER_INPUT naming where it is (`details.field`).
 */
export function checkStorableText(
  document: DocumentNode,
  variables: Readonly<Record<string, unknown>>,
): void {
  let where = unstorableIn(variables, 'variables');
  if (where === undefined) {
    visit(document, {
      StringValue(node) {
        if (where === undefined && UNSTORABLE.test(node.value))
          where = `line ${node.loc?.startToken.line ?? '?'}`;
      },
    });
  }
  if (where !== undefined) {
    throw new GraphQLError(`Text must be valid Unicode without NUL characters (${where}).`, {
      extensions: { code: ErrorCode.BadUserInput, details: { field: where }, http: { status: 400 } },
    });
  }
}

/** An Apollo plugin refusing operations over the limits, after parsing and before execution. */
export function queryLimitsPlugin(limits: QueryLimits): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operationName, request }) {
          checkStorableText(document, request.variables ?? {});
          checkDocument(schema, document, operationName, request.variables ?? {}, limits);
        },
      };
    },
  };
}
