// Debugger moves over a History: step, step over a CALL, step out to the caller,
// run to a breakpoint or a cursor, and the same backwards.
import { DomainSlot, KeyKind } from '@keyvm/core';
import type { Machine } from '@keyvm/interpreter';
import { INSTRUCTIONS } from '@keyvm/isa';
import type { Breakpoints } from './breakpoints.js';
import { type AdvanceResult, type History, type Location, locate, type StopCondition } from './history.js';

/** Instructions that wait for the callee: step over runs until their domain runs again. */
const CALLS: ReadonlySet<string> = new Set(['CALL', 'CALLW']);

/** The mnemonic of the instruction at a location, or undefined off the code. */
export function instructionAt(machine: Machine, at: Location): string | undefined {
  const page = machine.page(at.codePage);
  if (page?.kind !== 'data') return undefined;
  const op = page.words[at.pc];
  return op === undefined ? undefined : INSTRUCTIONS[op]?.name;
}

/** The domain a domain's RESUME slot would return to, or undefined when it holds no live resume key. */
export function callerOf(machine: Machine, domain: number): number | undefined {
  const key = machine.domain(domain).slots[DomainSlot.RESUME];
  return key?.kind === KeyKind.resume ? key.target : undefined;
}

const atBreakpoint =
  (breakpoints: Breakpoints | undefined): StopCondition =>
  (l) =>
    breakpoints?.hit(l.codePage, l.pc) === true;

/** Step over: one step, except that a CALL runs until its caller runs again (or a breakpoint). */
export function stepOver(history: History, limit: number, breakpoints?: Breakpoints): AdvanceResult {
  const here = locate(history.machine);
  const name = here === null ? undefined : instructionAt(history.machine, here);
  if (here === null || name === undefined || !CALLS.has(name)) return history.advance(1);
  const bp = atBreakpoint(breakpoints);
  return history.advance(limit, (l, h) => l.domain === here.domain || bp(l, h));
}

/** Step out: run until the domain that called this one runs again (or a breakpoint, or the end). */
export function stepOut(history: History, limit: number, breakpoints?: Breakpoints): AdvanceResult {
  const here = locate(history.machine);
  const bp = atBreakpoint(breakpoints);
  if (here === null) return history.advance(1);
  const caller = callerOf(history.machine, here.domain);
  return history.advance(limit, (l, h) => (caller !== undefined && l.domain === caller) || bp(l, h));
}

/** Run until a breakpoint, the end, or `limit` steps; without breakpoints runs at full speed. */
export function runForward(history: History, limit: number, breakpoints?: Breakpoints): AdvanceResult {
  if (breakpoints === undefined || breakpoints.size === 0) return history.advance(limit);
  return history.advance(limit, atBreakpoint(breakpoints));
}

/** Run until the next instruction is at `pc` on `codePage` (run to cursor). */
export function runTo(
  history: History,
  codePage: number,
  pcs: readonly number[],
  limit: number,
): AdvanceResult {
  const set = new Set(pcs);
  return history.advance(limit, (l) => l.codePage === codePage && set.has(l.pc));
}

/** Go back to the last breakpoint hit before here, or to the origin when there is none. Returns the new position. */
export function runBackward(history: History, breakpoints: Breakpoints): number {
  const found = history.findLastBefore(atBreakpoint(breakpoints));
  return history.seek(found ?? 0);
}
