// Leaving domains and choosing the next: halting, suspending, activating and
// queueing domains, delivering to them, faults and their keepers, meter exhaustion.
import {
  DomainSlot,
  DomainState,
  Fault,
  type FaultName,
  fail,
  faultName,
  GuestFault,
  type Key,
  KeyKind,
  type KeyPage,
  NULL_KEY,
  numberKey,
  ObjectKind,
  PRIME_TIME,
} from '@keyvm/core';
import { heavyCost } from '../ops/cost.js';
import type { FaultInfo } from '../types.js';
import { N_OPS, numberSlot } from './constants.js';
import { CpuPages } from './pages.js';

export abstract class CpuScheduler extends CpuPages {
  /**
   * The entered domain halts (HALT or running off its code). A called domain
   * returns to its waiting caller with the null key and word 0.
   */
  halt(): void {
    const page = this.domain!;
    this.suspend();
    this.setState(page, DomainState.halted);
    this.idle();
    const resume = this.store.normalize(page.slots[DomainSlot.RESUME]!);
    if (resume.kind !== KeyKind.resume) return;
    const caller = this.store.deref(resume) as KeyPage;
    const st = caller.slots[DomainSlot.STATE]!.value;
    if (st !== DomainState.waiting && st !== DomainState.waitingWord) return;
    this.store.consumeResume(resume);
    caller.slots[DomainSlot.RECV] = NULL_KEY;
    if (st === DomainState.waitingWord) {
      try {
        this.pushOnto(caller, 0, false);
      } catch (e) {
        if (!(e instanceof GuestFault)) throw e;
      }
    }
    this.setState(caller, DomainState.running);
    this.activate(caller);
  }

  /** Write the registers into the domain page (IP, POINTER), so anyone can look. */
  writeRegisters(): void {
    const page = this.domain!;
    page.slots[4 satisfies typeof DomainSlot.IP] = numberKey(this.ip);
    page.slots[6 satisfies typeof DomainSlot.POINTER] = numberKey(this.sp);
  }

  /**
   * Leave the running domain for another (CALL, RETURN, HALT, YIELD, a blocked read):
   * registers into its page; its borrow stays pending for the next domain to enter,
   * which goes on with it on the same meter or settles it.
   */
  suspend(): void {
    if (this.domain === null) return;
    this.writeRegisters();
    this.domain = null;
  }

  /** Leave the running domain and settle the borrow: registers into its page, gas paid. */
  leave(): void {
    this.suspend();
    this.settle();
  }

  /** The domain the kernel made active, when it is a running domain (`activate`'s page saves the lookup). */
  #runnableActive(): KeyPage | null {
    const id = this.store.kernel.active;
    if (id === 0) return null;
    const hint = this.activated;
    const page = hint !== null && hint.id === id ? hint : this.store.object(id);
    return page?.kind === ObjectKind.keyPage &&
      page.isDomain &&
      page.slots[3 satisfies typeof DomainSlot.STATE]!.value === (1 satisfies typeof DomainState.running)
      ? page
      : null;
  }

  /**
   * After a switch, enter the domain the kernel made active (a callee, a resumed
   * caller, a keeper) without leaving the dispatch loop. False when there is none
   * or it cannot be entered; the machine's scheduler then decides (and reports
   * the entry fault).
   */
  protected enterActive(): boolean {
    const page = this.#runnableActive();
    if (page === null) return false;
    try {
      this.enter(page);
      return true;
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      this.leave();
      return false;
    }
  }

  /**
   * After a transfer, enter the domain it activated when that domain runs on the
   * meter of the pending borrow, so the borrow (and the loop's counters) go on.
   * False when it runs on another meter or cannot be entered; the general path
   * (`enterActive`, the scheduler) then takes it, and reports any entry fault.
   */
  protected enterOnBorrow(): boolean {
    const page = this.#runnableActive();
    if (page === null || !this.onBorrow(page.slots[0 satisfies typeof DomainSlot.TIME]!)) return false;
    try {
      this.enter(page);
      return true;
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      // Entering only read the page; the general path enters it again and reports the fault.
      this.domain = null;
      return false;
    }
  }

  /** Gas the heavy instruction `op` costs now: the table's, its size's, its meter chain's (`heavyCost`). */
  costOf(op: number): number {
    return heavyCost(this.store, this.domain, this.stack, this.sp, op, this.meter?.depth ?? 0);
  }

  /** Gas cost of the instruction at the current IP (for meter exhaustion and the step hook). */
  costAtIp(): number {
    const op = this.code[this.ip];
    return op !== undefined && op >= 0 && op < N_OPS ? this.costOf(op) : 1;
  }

  setState(page: KeyPage, state: DomainState): void {
    page.slots[3 satisfies typeof DomainSlot.STATE] = numberKey(state);
  }

  /** Make `page` the next domain to run (the running one must have been left). */
  activate(page: KeyPage): void {
    this.store.kernel.active = page.id;
    this.activated = page;
  }

  /** No domain is to run next (the running one was left): the scheduler picks one from the queue. */
  idle(): void {
    this.store.kernel.active = 0;
  }

  /** Queue a runnable domain behind the others. */
  enqueue(page: KeyPage): void {
    this.store.kernel.runQueue.push(page.id);
  }

  /**
   * Deliver control to a domain as a call would: RECV gets `recv`, RESUME gets
   * `resume`, `word` (when given) is pushed on its stack, and it becomes the
   * domain to run. Checks everything first; throws a GuestFault and changes nothing
   * when the target cannot take it.
   */
  deliver(target: KeyPage, recv: Key, resume: Key, word: number | null): void {
    if (
      numberSlot(target, 3 satisfies typeof DomainSlot.STATE) !== (0 satisfies typeof DomainState.available)
    )
      fail('busy', `domain #${target.id} is not available`);
    if (word !== null) this.pushOnto(target, word, true);
    target.slots[9 satisfies typeof DomainSlot.RECV] = recv;
    target.slots[11 satisfies typeof DomainSlot.RESUME] = resume;
    if (word !== null) this.pushOnto(target, word, false);
    this.setState(target, 1 satisfies typeof DomainState.running);
  }

  /** Push a word on a non-running domain's stack (`check` only validates). */
  pushOnto(target: KeyPage, word: number, check: boolean): void {
    const stack = this.stackOf(target, 'take the word');
    const sp = numberSlot(target, 6 satisfies typeof DomainSlot.POINTER);
    if (sp < 0 || sp >= stack.size) fail('stack-overflow', `domain #${target.id} has no room on its stack`);
    if (check) return;
    if (stack.runCache !== undefined) stack.changes++; // as in reloadPages: the page may run as code
    stack.words[sp] = word | 0;
    target.slots[6 satisfies typeof DomainSlot.POINTER] = numberKey(sp + 1);
  }

  /** Describe the pending fault for results and the kernel record. */
  faultInfo(f: GuestFault, pc: number, domain: number): FaultInfo {
    return { code: f.fault, number: f.code, message: f.message, pc, domain };
  }

  /**
   * The entered domain faulted at `this.ip` (registers as before the instruction).
   * Leaves it, marks it faulted and hands it to its keeper. Returns true when a
   * keeper took over, false when the run must stop.
   */
  handleFault(f: GuestFault): boolean {
    const page = this.domain!;
    this.leave();
    this.setState(page, DomainState.faulted);
    this.idle();
    const keeperKey = this.store.normalize(page.slots[DomainSlot.KEEPER]!);
    if (keeperKey.kind === KeyKind.domain) {
      const keeper = this.store.domain(keeperKey);
      if (this.tryKeeper(keeper, this.store.pageKey(page), page, f.code)) return true;
    }
    const k = this.store.kernel;
    k.faultCode = f.code;
    k.faultPc = numberSlot(page, DomainSlot.IP);
    k.faultDomain = page.id;
    return false;
  }

  /** Hand a stopped domain to a keeper: RECV `recv`, RESUME a restart key, the code pushed. */
  tryKeeper(keeper: KeyPage, recv: Key, stopped: KeyPage, code: number): boolean {
    if (keeper === stopped) return false;
    try {
      this.deliver(keeper, recv, this.store.resumeKey(stopped), code);
    } catch (e) {
      if (e instanceof GuestFault) return false;
      throw e;
    }
    this.activate(keeper);
    return true;
  }

  /**
   * The entered domain cannot pay for its next instruction from its borrow. Returns
   * 'borrowed' when only the borrow ran out (the chain has gas: it borrowed again and
   * the instruction can run), 'keeper' when a meter keeper took over, 'stop' when the prime meter ran out (the machine stops
   * with out-of-gas, resumable), or a GuestFault to treat as the domain's fault.
   */
  handleExhaustion(): 'borrowed' | 'keeper' | 'stop' | GuestFault {
    const page = this.domain!;
    // An instruction left the domain without a usable meter: that is its fault.
    if (this.meter === null) return this.broken ?? new GuestFault('null-key', 'the domain has no time meter');
    const meter = this.meter;
    const cost = this.costAtIp();
    this.settle();
    const empty = this.store.exhausted(meter, cost);
    if (empty === undefined) {
      // Only the borrow ran out (it is capped): borrow again, enough for this instruction.
      this.borrowFrom(meter, cost);
      return 'borrowed';
    }
    const keeperKey = this.store.normalize(empty.keeper);
    if (keeperKey.kind === KeyKind.domain) {
      const keeper = this.store.domain(keeperKey);
      this.writeRegisters();
      const saved = page.slots[DomainSlot.STATE]!;
      this.setState(page, DomainState.faulted);
      if (this.tryKeeper(keeper, this.store.meterKey(empty, true), page, Fault['out-of-gas'])) {
        this.domain = null;
        return 'keeper';
      }
      page.slots[DomainSlot.STATE] = saved;
    }
    if (empty.id === PRIME_TIME) return 'stop';
    return new GuestFault('out-of-gas', `time meter #${empty.id} ran out and has no keeper to refill it`);
  }

  /** Catalogue name of a fault number (recorded faults are always in the catalogue). */
  static faultNameOf(n: number): FaultName {
    return faultName(n) ?? 'bad-argument';
  }
}
