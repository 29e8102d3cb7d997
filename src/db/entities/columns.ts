import type { ValueTransformer } from 'typeorm';

/** `bigint` columns as JavaScript numbers (byte counts and counters stay far below 2^53). */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/** `real` columns come back as numbers already; nullable helper for symmetry. */
export const realAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/** A JSON value as stored in `jsonb` columns. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Round-trips through JSON: drops `undefined`, turns dates into ISO strings. */
export const toJsonObject = (value: Record<string, unknown>): JsonObject =>
  JSON.parse(JSON.stringify(value)) as JsonObject;
