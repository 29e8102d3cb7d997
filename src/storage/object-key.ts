/**
 * The object key grammar, shared by every store so that a key valid on one is valid on all:
 * `/`-separated segments of `[A-Za-z0-9._-]`, no empty segment, no `.` or `..` segment, no leading
 * or trailing `/`. Nothing else is allowed (no `%`, `\`, `~`, spaces), so a key never needs
 * escaping in a URL, an S3 request or a file name, and can never name a parent directory.
 */
import { InvalidObjectKeyError } from './errors.js';

/** Longest key, in characters (S3's limit is 1024 bytes; keys are ASCII). */
export const MAX_OBJECT_KEY_LENGTH = 1024;

/** Longest segment, in characters: leaves room under the 255-byte file name limit of disks. */
export const MAX_OBJECT_KEY_SEGMENT_LENGTH = 200;

const KEY_CHARACTERS = /^[A-Za-z0-9._/-]*$/;

function segmentProblem(segment: string): string | undefined {
  if (segment === '') return 'empty segment (leading, trailing or double "/")';
  if (segment === '.' || segment === '..') return `"${segment}" segment`;
  if (segment.length > MAX_OBJECT_KEY_SEGMENT_LENGTH) {
    return `segment longer than ${MAX_OBJECT_KEY_SEGMENT_LENGTH} characters`;
  }
  return undefined;
}

function checkCharacters(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new InvalidObjectKeyError(String(value), `${what} must be a string`);
  if (value.length > MAX_OBJECT_KEY_LENGTH) {
    throw new InvalidObjectKeyError(value, `longer than ${MAX_OBJECT_KEY_LENGTH} characters`);
  }
  if (!KEY_CHARACTERS.test(value)) {
    throw new InvalidObjectKeyError(value, 'only A-Z a-z 0-9 . _ - and / are allowed');
  }
  return value;
}

/**
 * Checks an object key against the grammar.
 * @throws InvalidObjectKeyError naming the first problem.
 */
export function assertObjectKey(key: unknown): asserts key is string {
  const value = checkCharacters(key, 'a key');
  if (value === '') throw new InvalidObjectKeyError(value, 'empty');
  for (const segment of value.split('/')) {
    const problem = segmentProblem(segment);
    if (problem !== undefined) throw new InvalidObjectKeyError(value, problem);
  }
}

/**
 * Checks a listing prefix: `''`, or complete segments followed by a possibly empty partial one
 * (`a/b/`, `a/b`, `a/b/c.`). The complete segments follow the key grammar.
 * @throws InvalidObjectKeyError naming the first problem.
 */
export function assertKeyPrefix(prefix: unknown): asserts prefix is string {
  const value = checkCharacters(prefix, 'a prefix');
  if (value === '') return;
  const segments = value.split('/');
  segments.pop();
  for (const segment of segments) {
    const problem = segmentProblem(segment);
    if (problem !== undefined) throw new InvalidObjectKeyError(value, problem);
  }
}

/** True when `key` follows the grammar. */
export function isObjectKey(key: unknown): key is string {
  try {
    assertObjectKey(key);
    return true;
  } catch {
    return false;
  }
}
