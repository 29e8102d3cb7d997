import { describe, expect, it } from '@jest/globals';
import { formatNumber, formatSummary, percentile, summarize, textTable } from './stats.js';
import { verdict } from './targets.js';

describe('bench statistics', () => {
  it('takes the median of an odd and of an even number of runs, with the extremes', () => {
    expect(summarize([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(summarize([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4, n: 4 });
  });

  it('takes percentiles by nearest rank', () => {
    const values = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(values, 95)).toBe(19);
    expect(percentile(values, 50)).toBe(10);
    expect(percentile([7], 99)).toBe(7);
    expect(() => percentile([], 50)).toThrow(RangeError);
  });

  it('prints significant digits without exponents, and runs as median (min–max)', () => {
    expect(formatNumber(12345.6)).toBe('12346');
    expect(formatNumber(0.012345)).toBe('0.0123');
    expect(formatNumber(9.87)).toBe('9.87');
    expect(formatSummary(summarize([0.5, 0.75, 1]))).toBe('0.750 (0.500–1.00)');
    expect(formatSummary(summarize([8, 8, 8]))).toBe('8.00');
  });

  it('lines up table columns under their header', () => {
    const table = textTable(
      ['name', 'value'],
      [
        ['a', '1'],
        ['longer', '22'],
      ],
    ).split('\n');
    expect(table[0]).toBe('name    value');
    expect(table[1]).toBe('------  -----');
    expect(table[3]).toBe('longer  22');
  });
});

describe('bench targets', () => {
  const target = { name: 't', threshold: 0.9, unit: '×' } as const;

  it('meets a lower bound at the bound and not below it', () => {
    expect(verdict({ ...target, comparison: '>=', measured: 0.9 })).toBe('MET');
    expect(verdict({ ...target, comparison: '>=', measured: 0.89 })).toBe('NOT MET');
    expect(verdict({ ...target, comparison: '<=', measured: 0.91 })).toBe('NOT MET');
  });

  it('requires exact equality for single-flight and never calls a missing figure met', () => {
    expect(verdict({ ...target, comparison: '==', threshold: 1, measured: 1 })).toBe('MET');
    expect(verdict({ ...target, comparison: '==', threshold: 1, measured: 2 })).toBe('NOT MET');
    expect(verdict({ ...target, comparison: '>=', measured: undefined })).toBe('NOT MEASURED');
    expect(verdict({ ...target, comparison: '>=', measured: Number.NaN })).toBe('NOT MEASURED');
  });
});
