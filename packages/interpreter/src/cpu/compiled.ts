// The glue between the dispatch loop and compiled code (../jit.ts): taking a code
// page's compiled form, counting its warm-up, and running it on the loop's registers.
import type { DataPage } from '@keyvm/core';
import { compiledFor } from '../jit.js';
import { CHUNK, WARM_CHUNK } from './constants.js';
import { CpuState } from './state.js';

export abstract class CpuCompiled extends CpuState {
  /** Take `page` as the running code page and its compiled form, if it has one yet. */
  protected compile(page: DataPage): void {
    this.codePage = page;
    this.compiledAt = page.changes;
    this.compiled = this.jitting() ? compiledFor(page, 0, this.jit === 'eager') : null;
  }

  /** Count `ran` interpreted instructions towards compiling the running code page. */
  protected warm(ran: number): void {
    if (this.compiled === null && ran > 0 && this.jitting()) {
      this.compiled = compiledFor(this.codePage!, ran, this.jit === 'eager');
    }
  }

  /** How far the loop may run before it looks again: short chunks while the code page warms up. */
  protected chunk(): number {
    return this.compiled === null && this.jitting() ? WARM_CHUNK : CHUNK;
  }

  /** Whether the running code page may be compiled: the JIT is on and the page is not also the stack. */
  protected jitting(): boolean {
    return this.jit !== false && this.codePage !== null && this.codePage !== this.stackPage;
  }

  /**
   * Run compiled code from (ip, sp) with `fuel`, `gasLeft` being what is left of the
   * borrow; the results are left in the registers array, and regs[4] is how many units
   * of the fuel it spent were no steps (NUMKEY, METERREAD): the caller's steps are that
   * many fewer than the fuel spent.
   */
  protected runCompiled(stack: Int32Array, ip: number, sp: number, fuel: number, gasLeft: number): void {
    const regs = this.regs;
    regs[0] = ip;
    regs[1] = sp;
    regs[2] = fuel;
    regs[3] = stack.length;
    regs[4] = 0;
    regs[5] = this.budget - gasLeft;
    this.compiled!(stack, regs, this.views!);
  }
}
