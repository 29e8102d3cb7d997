import { Field, ObjectType, type ClassType } from 'type-graphql';
import { badInput } from '../errors/index.js';

/** Relay page info. */
@ObjectType({ description: 'Where a page sits in its connection.' })
export class PageInfo {
  @Field() hasNextPage: boolean;
  @Field() hasPreviousPage: boolean;
  @Field(() => String, { nullable: true }) startCursor: string | null;
  @Field(() => String, { nullable: true }) endCursor: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
}

/**
 * Defines `${name}Edge` and `${name}Connection` object types for a node type (Relay connections).
 */
export function connectionType<T extends object>(node: ClassType<T>, name: string): ClassType<Connection<T>> {
  @ObjectType(`${name}Edge`)
  class EdgeType implements Edge<T> {
    @Field({ description: 'Opaque cursor of this edge, for `after`.' }) cursor: string;
    @Field(() => node) node: T;
  }
  @ObjectType(`${name}Connection`, { description: `A page of ${name} nodes.` })
  class ConnectionType implements Connection<T> {
    @Field(() => [EdgeType]) edges: EdgeType[];
    @Field(() => PageInfo) pageInfo: PageInfo;
  }
  return ConnectionType;
}

/** Opaque keyset cursor: base64url of a JSON array. */
export function encodeCursor(parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/** @throws DomainError BAD_USER_INPUT for a cursor this server did not make. */
export function decodeCursor(cursor: string, arity: number): (string | number)[] {
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parts) &&
      parts.length === arity &&
      parts.every((p) => typeof p === 'string' || typeof p === 'number')
    ) {
      return parts as (string | number)[];
    }
  } catch {
    // fall through
  }
  throw badInput('Invalid cursor.', { field: 'after' });
}

/**
 * Checks `first` against the page-size cap.
 * @throws DomainError BAD_USER_INPUT outside 1..max.
 */
export function pageSize(first: number | null | undefined, max: number, fallback = 20): number {
  const n = first ?? Math.min(fallback, max);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw badInput(`first must be between 1 and ${max} (got ${n}).`, { field: 'first', max });
  }
  return n;
}

/** Builds a connection from `limit + 1` fetched rows: the extra row only tells there is a next page. */
export function toConnection<R, T>(
  rows: readonly R[],
  limit: number,
  cursorOf: (row: R) => string,
  toNode: (row: R) => T,
  hasPrevious = false,
): Connection<T> {
  const page = rows.slice(0, limit);
  const edges = page.map((row) => ({ cursor: cursorOf(row), node: toNode(row) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > limit,
      hasPreviousPage: hasPrevious,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
