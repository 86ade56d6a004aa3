// Hostile sources: "did you mean" work is bounded, so failing on many undefined names
// grows linearly with the source (measured in comparisons, not in time).
import { describe, expect, it } from 'vitest';
import { assemble } from './assemble.js';
import { AssemblyError } from './diagnostics.js';
import { MAX_COMPARISONS, suggestionWork } from './suggest.js';

/** N labels, then N references to names one letter off each (every one undefined). */
function nearMisses(n: number): string {
  let src = '';
  for (let i = 0; i < n; i++) src += `lab${i}:\n`;
  for (let i = 0; i < n; i++) src += `PUSH :lbx${i}\nPUSH LAB${i}X\nNOPE${i % 10}\n`;
  return src;
}

function work(n: number): { comparisons: number; errors: number } {
  const before = suggestionWork.comparisons;
  try {
    assemble(nearMisses(n));
  } catch (e) {
    if (!(e instanceof AssemblyError)) throw e;
    return { comparisons: suggestionWork.comparisons - before, errors: e.diagnostics.length };
  }
  throw new Error('expected assembly errors');
}

describe('suggestions for undefined names are bounded', () => {
  it('grow at most linearly: 4x the source costs at most 4x the comparisons', () => {
    const small = work(500);
    const large = work(2000);
    expect(small.errors).toBe(3 * 500);
    expect(large.errors).toBe(3 * 2000);
    expect(large.comparisons).toBeLessThanOrEqual(4 * small.comparisons);
    // And never more than the budget of the three tables (labels, constants, mnemonics).
    expect(large.comparisons).toBeLessThanOrEqual(3 * MAX_COMPARISONS);
  });

  it('still suggests the near miss when there are few names', () => {
    expect(() => assemble('start:\nPUSH :strat\n')).toThrow(/did you mean ':start'/);
    expect(() => assemble('PUSHH 1\n')).toThrow(/did you mean 'PUSH'/);
  });
});
