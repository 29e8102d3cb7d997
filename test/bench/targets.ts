/**
 * The performance targets of the bench and their verdicts: each target compares one measured
 * figure with a threshold; a figure that could not be measured (a reference not installed) is
 * reported as such, never as met.
 */

export type Comparison = '>=' | '<=' | '==';

export interface Target {
  readonly name: string;
  readonly comparison: Comparison;
  readonly threshold: number;
  /** Unit of measured and threshold, for display ('×', 'MB', '%', 'statements', 'renders'). */
  readonly unit: string;
  /** What was measured; undefined when it could not be (the reason in `note`). */
  readonly measured: number | undefined;
  readonly note?: string;
}

export type Verdict = 'MET' | 'NOT MET' | 'NOT MEASURED';

/** Whether `target.measured` satisfies the target (`==` compares exactly). */
export function verdict(target: Target): Verdict {
  const { measured, threshold } = target;
  if (measured === undefined || Number.isNaN(measured)) return 'NOT MEASURED';
  const met =
    target.comparison === '>='
      ? measured >= threshold
      : target.comparison === '<='
        ? measured <= threshold
        : measured === threshold;
  return met ? 'MET' : 'NOT MET';
}
