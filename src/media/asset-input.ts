import { badInput } from '../errors/index.js';

/** Most tags on one asset, and longest tag. */
export const MAX_TAGS = 50;
export const MAX_TAG_LENGTH = 64;
export const MAX_FOLDER_LENGTH = 255;
export const MAX_FILENAME_LENGTH = 255;

/**
 * Tags as stored: trimmed, lowercase, unique, in the given order.
 * @throws DomainError BAD_USER_INPUT for empty or overlong tags, or too many.
 */
export function normalizeTags(tags: readonly string[] | null | undefined): string[] {
  const out: string[] = [];
  for (const raw of tags ?? []) {
    const tag = raw.normalize('NFC').trim().toLowerCase();
    if (tag.length === 0) throw badInput('Tags cannot be empty.', { field: 'tags' });
    if (tag.length > MAX_TAG_LENGTH)
      throw badInput(`Tags are at most ${MAX_TAG_LENGTH} characters (got "${tag.slice(0, 20)}…").`, {
        field: 'tags',
      });
    if (/\p{Cc}/u.test(tag)) throw badInput('Tags cannot contain control characters.', { field: 'tags' });
    if (!out.includes(tag)) out.push(tag);
  }
  if (out.length > MAX_TAGS)
    throw badInput(`An asset has at most ${MAX_TAGS} tags (got ${out.length}).`, { field: 'tags' });
  return out;
}

/**
 * A folder path as stored: segments joined by `/`, no leading or trailing slash, `''` for the root.
 * @throws DomainError BAD_USER_INPUT for `.`/`..` segments, control characters, or overlong paths.
 */
export function normalizeFolder(folder: string | null | undefined): string {
  const segments = (folder ?? '')
    .normalize('NFC')
    .split('/')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const segment of segments) {
    if (segment === '.' || segment === '..')
      throw badInput('Folder segments cannot be "." or "..".', { field: 'folder' });
    if (/\p{Cc}/u.test(segment))
      throw badInput('Folders cannot contain control characters.', { field: 'folder' });
  }
  const path = segments.join('/');
  if (path.length > MAX_FOLDER_LENGTH)
    throw badInput(`Folders are at most ${MAX_FOLDER_LENGTH} characters.`, { field: 'folder' });
  return path;
}

/**
 * A display filename: the last path segment, without control characters, at most 255 characters;
 * `fallback` when nothing is left.
 */
export function normalizeFilename(name: string | null | undefined, fallback: string): string {
  const base = (name ?? '').normalize('NFC').split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/\p{Cc}/gu, '').trim();
  const chosen = clean.length > 0 ? clean : fallback;
  if (chosen.length <= MAX_FILENAME_LENGTH) return chosen;
  const dot = chosen.lastIndexOf('.');
  const ext = dot > 0 && chosen.length - dot <= 10 ? chosen.slice(dot) : '';
  return chosen.slice(0, MAX_FILENAME_LENGTH - ext.length) + ext;
}

/**
 * A focal point in relative coordinates.
 * @throws DomainError BAD_USER_INPUT outside 0..1.
 */
export function checkFocalPoint(point: { x: number; y: number }): { x: number; y: number } {
  for (const [axis, value] of [
    ['x', point.x],
    ['y', point.y],
  ] as const) {
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      throw badInput(`Expected number between 0 and 1 for focalPoint.${axis} but received ${value}.`, {
        field: `focalPoint.${axis}`,
      });
    }
  }
  return { x: point.x, y: point.y };
}
