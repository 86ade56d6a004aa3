// The Anoma VM interface's evaluate: run a program on arguments under a gas limit
// and a memory limit, deterministically, returning the result (when it halts) and the gas used.
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
 * The prime memory meter `evaluate` boots with unless told otherwise, in words:
 * 4 Mi words (16 MiB of pages). Every object is charged at least its host cost
 * (MEMORY_CHARGES), so this bounds the host memory an evaluation can take.
 */
export const EVALUATE_MEMORY = 1 << 22;

export interface EvaluateOptions {
  /** The prime memory meter, in words (default `EVALUATE_MEMORY`); booting the program is paid from it too. */
  memory?: number;
}

/**
 * Evaluate `program` with `args` pushed in order (the first argument deepest) and
 * at most `gasLimit` gas and `options.memory` words of memory. No devices:
 * evaluation is a pure function of its inputs. Throws MachineError when the
 * program and its arguments do not fit in the memory limit at boot.
 */
export function evaluate(
  program: Program,
  args: readonly number[],
  gasLimit: number,
  options: EvaluateOptions = {},
): Evaluation {
  const memory = options.memory ?? EVALUATE_MEMORY;
  const machine = Machine.boot(program, { time: gasLimit, memory, devices: false, stack: args });
  const r = machine.run();
  const base = { gasUsed: r.gasUsed, status: r.status };
  if (r.status === 'halted') return { ...base, result: machine.stack() };
  return r.fault ? { ...base, fault: r.fault } : base;
}
