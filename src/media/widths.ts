import type { SpaceEntity } from '../db/entities/index.js';
import { badInput } from '../errors/index.js';
import { widthLadder, type WidthPolicy } from '../transforms/index.js';

/** The ladder every space serves unless it declares its own: 16 widths, 64 to 3840 px. */
export const DEFAULT_LADDER: readonly number[] = widthLadder();

/** The widths a space serves and what an off-ladder width gets there. */
export interface WidthRules {
  readonly ladder: readonly number[];
  readonly policy: WidthPolicy;
}

export function widthRules(space: Pick<SpaceEntity, 'settings'>, defaultPolicy: WidthPolicy): WidthRules {
  return {
    ladder: space.settings.widths ?? DEFAULT_LADDER,
    policy: space.settings.widthPolicy ?? defaultPolicy,
  };
}

/**
 * A ladder as a space may declare it: 1 to 64 distinct integer widths within the output limit,
 * stored ascending.
 * @throws DomainError BAD_USER_INPUT
 */
export function checkLadder(widths: readonly number[], maxOutputDimension: number): number[] {
  const sorted = [...new Set(widths)].sort((a, b) => a - b);
  if (sorted.length < 1 || sorted.length > 64)
    throw badInput('A space serves 1 to 64 widths.', { field: 'widths' });
  for (const w of sorted) {
    if (!Number.isInteger(w) || w < 1 || w > maxOutputDimension) {
      throw badInput(`Widths must be integers between 1 and ${maxOutputDimension} (got ${w}).`, {
        field: 'widths',
      });
    }
  }
  return sorted;
}
