// The Anoma VM interface's evaluate: run a program on arguments under a gas limit,
// deterministically, returning the result (when it halts) and the gas used.
import { Machine, type Program } from './machine.js';
import type { FaultInfo, RunStatus } from './types.js';

export interface Evaluation {
  /** The root domain's final stack, bottom first, when the program halted; otherwise absent. */
  readonly result?: readonly number[];
  /** Gas used: never more than the limit. */
  readonly gasUsed: number;
  readonly status: RunStatus;
  readonly fault?: FaultInfo;
}

/**
 * Evaluate `program` with `args` pushed in order (the first argument deepest) and
 * at most `gasLimit` gas. No devices: evaluation is a pure function of its inputs.
 */
export function evaluate(program: Program, args: readonly number[], gasLimit: number): Evaluation {
  const machine = Machine.boot(program, { time: gasLimit, devices: false, stack: args });
  const r = machine.run();
  const base = { gasUsed: r.gasUsed, status: r.status };
  if (r.status === 'halted') return { ...base, result: machine.stack() };
  return r.fault ? { ...base, fault: r.fault } : base;
}
