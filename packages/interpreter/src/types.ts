// Results and options of the machine's public API.
import type { FaultName } from '@keyvm/core';

export type RunStatus = 'halted' | 'fault' | 'out-of-gas' | 'waiting' | 'paused';

export interface FaultInfo {
  /** Catalogue name, e.g. 'division-by-zero'. */
  readonly code: FaultName;
  /** Catalogue number, as keepers receive it. */
  readonly number: number;
  readonly message: string;
  /** Code offset of the faulting instruction. */
  readonly pc: number;
  /** Key page id of the faulted domain. */
  readonly domain: number;
}

export interface RunOptions {
  /** Stop after this many instructions with status 'paused' (the machine can continue). */
  maxSteps?: number;
  /** Set the prime time meter to this budget before running. */
  gas?: number;
}

export interface RunResult {
  readonly status: RunStatus;
  /** Instructions executed by this call. */
  readonly steps: number;
  /** Time-meter units spent by this call. */
  readonly gasUsed: number;
  readonly fault?: FaultInfo;
}

/** What the step hook receives before each instruction (built only when a hook is set). */
export interface StepInfo {
  readonly pc: number;
  readonly op: number;
  readonly opName: string;
  /** Gas the running domain could still spend before this instruction. */
  readonly gas: number;
  readonly gasCost: number;
  /**
   * The running domain's stack, bottom first: all of it, or (with Machine.stepStackEnds
   * = N and a deeper stack) its bottom N words followed by its top N words.
   */
  readonly stack: readonly number[];
  /** Words on the running domain's stack. */
  readonly sp: number;
  /** Stack words left out of `stack` between its bottom and top words (0: it is whole). */
  readonly stackOmitted: number;
  /** Call depth: 1 plus the number of callers waiting behind this domain. */
  readonly depth: number;
  /** Key page id of the running domain. */
  readonly domain: number;
}

export type StepHook = (step: StepInfo) => void;
