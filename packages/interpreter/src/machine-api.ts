// MachineApi: the shape of a machine as frontends use it (the CLI, a playground), so
// they can drive another implementation of the same API (a worker proxy, a recorder).
import type { Store } from '@keyvm/core';
import type { DomainView, PageView } from './machine.js';
import type { RunOptions, RunResult, StepHook } from './types.js';

/** What `Machine` offers its users; `Machine` implements it. */
export interface MachineApi {
  /** Everything the machine is (objects and kernel registers): what an image encodes. */
  readonly store: Store;
  /** Why the JIT is off although it was asked for (the platform refuses code generation), or undefined. */
  readonly jitRefused: Error | undefined;
  /** Console output collected when the host gives no writer. */
  readonly output: string;
  /** Characters of console output dropped because `output` reached its cap. */
  readonly outputDropped: number;
  /** Called before every instruction while set. */
  onStep: StepHook | null;
  /** How much of a deep stack a step record copies: all (the default) or its bottom and top N words. */
  stepStackEnds: number;
  /** Key page id of the root domain. */
  readonly rootDomain: number;
  /** Queue words for input devices; blocked readers become runnable. */
  provideInput(words: Iterable<number>): void;
  /** Execute one instruction. */
  step(): RunResult;
  /** Run until halted, fault, out of gas, waiting for input, or `maxSteps` ('paused'). */
  run(options?: RunOptions): RunResult;
  /** A domain's stack, bottom first (the root's by default). */
  stack(domainId?: number): number[];
  /** A view of one domain; throws when `id` is not a domain. */
  domain(id: number): DomainView;
  /** A read-only copy of any page by id, or undefined. */
  page(id: number): PageView | undefined;
  /** Every domain, in id order. */
  domains(): DomainView[];
  /** 1 plus the number of callers waiting behind a domain. */
  callDepth(domainId: number): number;
}
