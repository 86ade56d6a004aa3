// The mapping from what was thrown to an exit code (the one not reachable from outside: internal errors).
import { AssemblyError, MAX_PAGE_WORDS } from '@keyvm/assembler';
import { LIMITS } from '@keyvm/core';
import { MachineError } from '@keyvm/interpreter';
import { describe, expect, it } from 'vitest';
import { ExitCode, toCliError } from './errors.js';

describe('toCliError', () => {
  it('maps anything unexpected to an internal error (exit 70) that asks for KEYVM_DEBUG', () => {
    const e = toCliError(new TypeError('x is undefined'));
    expect(e.exitCode).toBe(ExitCode.internal);
    expect(e.exitCode).toBe(70);
    expect(e.message).toBe(
      'internal error: x is undefined (this is a bug in keyvm; KEYVM_DEBUG=1 for a stack trace)',
    );
  });

  it('maps machine usage errors to 2 and assembly errors to 4', () => {
    expect(toCliError(new MachineError('gas must be a whole number')).exitCode).toBe(ExitCode.usage);
    const diagnostic = {
      code: 'syntax',
      message: 'oops',
      file: 'a.ism',
      line: 1,
      col: 2,
      sourceLine: 'x',
    } as const;
    const e = toCliError(new AssemblyError([diagnostic]));
    expect(e.exitCode).toBe(ExitCode.malformed);
    expect(e.message).toBe('a.ism:1:2: error: oops\nx\n ^');
  });
});

describe('limits the packages must agree on', () => {
  it("the assembler's largest page is the core's largest data page (what it assembles, the store can boot)", () => {
    expect(MAX_PAGE_WORDS).toBe(LIMITS.maxDataPageWords);
  });
});
