// The one-step transfer path: CALL, CALLW and RETURN between domains whose pages the
// run cache holds, done and followed without leaving the dispatch loop.
//
// Code on the domain-switch path writes layout numbers as literals checked with
// `satisfies` (`slots[3 satisfies typeof DomainSlot.STATE]`), as the loop's case
// labels do: in V8 each use of an imported frozen constant costs several dependent
// loads, which measurably slowed CALL + RETURN.
import {
  type DomainSlot,
  type DomainState,
  type Key,
  type KeyKind,
  type KeyPage,
  numberKey,
  type ObjectKind,
} from '@keyvm/core';
import type { Op } from '@keyvm/isa';
import * as K from './constants.js';
import type { DomainPages } from './pages.js';
import { CpuScheduler } from './schedule.js';
import type { TargetCache } from './state.js';

// Module-local copies of the constants used on this hot path: V8 folds a module's own
// constants into optimised code, but loads an imported binding through its cell at
// each use (and a frozen object's property after it), as before the split.
const AVAILABLE = K.AVAILABLE;
const CHUNK = K.CHUNK;
const fuelFor = K.fuelFor;
const isPlainSlot = K.isPlainSlot;
const Moved = K.Moved;
const RUNNING = K.RUNNING;
const TRANSFER_EXTRA = K.TRANSFER_EXTRA;
const TRANSFER_GAS = K.TRANSFER_GAS;
const WAITING = K.WAITING;
const WAITING_WORD = K.WAITING_WORD;
type Moved = K.Moved;

export abstract class CpuTransfers extends CpuScheduler {
  /**
   * The transfer `op` at (ip, sp) in one step (`#fastCall`, `#fastReturn`), then,
   * while each next domain runs compiled code, that code and the transfer it stops
   * at, and so on: a conversation between compiled domains goes on in this small
   * loop, never back through the dispatch switch (which cost about a fifth of a
   * CALL + RETURN). `fuel` is the loop's, with the transfer paid; `stepsAt` and
   * `gasAt` are the loop's steps and gas at fuel 0, so the counters at any point
   * are `stepsAt - fuel` and `gasAt + fuel`, until a transfer to a domain on
   * another meter settles them and borrows anew (then they start again, within
   * `limit` steps). Returns Moved.no when the first transfer is not for the
   * one-step path (nothing changed). Otherwise ip and sp are in the fields, and a
   * later transfer the one-step path refuses is left at its instruction, unpaid,
   * for the dispatch loop to run; with Moved.sameBorrow the fuel left is in
   * regs[2] (and in regs[4] the units of it compiled code spent that were no steps), with Moved.newBorrow (any transfer borrowed anew) the counters are
   * in the fields.
   */
  protected followTransfers(
    op: number,
    ip: number,
    sp: number,
    fuel: number,
    stepsAt: number,
    gasAt: number,
    limit: number,
  ): Moved {
    const regs = this.regs;
    this.followed = 0;
    let moved = this.#fastTransfer(op, ip, sp, stepsAt - fuel, gasAt + fuel);
    if (moved === Moved.no) return moved;
    let result: Moved = Moved.sameBorrow;
    let noSteps = 0;
    for (;;) {
      if (moved === Moved.newBorrow) {
        // The counters start again from what the transfer left in the fields.
        result = Moved.newBorrow;
        const steps = this.lastSteps;
        const gas = this.gasLeft;
        fuel = fuelFor(gas, limit - steps, CHUNK);
        stepsAt = steps + fuel;
        gasAt = gas - fuel;
      }
      if (this.compiled === null) break;
      this.runCompiled(this.stack, this.ip, this.sp, fuel, gasAt + fuel); // leaves ip, sp and the fuel left in regs
      const at = regs[0]!;
      const next = this.code[at];
      const nsp = regs[1]!;
      fuel = regs[2]!;
      // Units NUMKEY and METERREAD took that were no steps (the loop learns the sum, regs[4]).
      stepsAt -= regs[4]!;
      noSteps += regs[4]!;
      if (
        fuel < TRANSFER_GAS ||
        (next !== (14 satisfies typeof Op.CALL) &&
          next !== (38 satisfies typeof Op.CALLW) &&
          next !== (39 satisfies typeof Op.RETURN))
      ) {
        this.ip = at;
        this.sp = nsp;
        break;
      }
      // Paid: TRANSFER_GAS units of fuel, one step (so steps at fuel 0 come TRANSFER_EXTRA earlier).
      const left = fuel - TRANSFER_GAS;
      moved = this.#fastTransfer(next, at, nsp, stepsAt - TRANSFER_EXTRA - left, gasAt + left);
      if (moved === Moved.no) {
        this.ip = at;
        this.sp = nsp;
        break;
      }
      fuel = left;
      stepsAt -= TRANSFER_EXTRA;
      this.followed++;
    }
    if (result === Moved.sameBorrow) {
      regs[2] = fuel;
      regs[4] = noSteps;
    } else {
      this.lastSteps = stepsAt - fuel;
      this.gasLeft = gasAt + fuel;
    }
    return result;
  }

  /**
   * CALL, CALLW or RETURN at (ip, sp) in the common case, checked and done in one
   * step: a CALL to an available domain or a RETURN to a waiting caller, on a live
   * time meter, whose pages the cache holds. Makes the transfer and enters the next
   * domain with exactly the effects of `transfer` then `enter`: on the same borrow,
   * or (another meter) settling it, with the loop's counters `steps` and
   * `gasLeft`, and borrowing anew. Otherwise changes nothing and returns Moved.no:
   * the general path then runs the instruction, and reports its fault if it has
   * one. Each writes in the general path's order (a stack page may be shared).
   * CALL and RETURN have a path each, alike in shape: one function with their
   * differences as branches was about 7 ns slower per round trip.
   */
  #fastTransfer(op: number, ip: number, sp: number, steps: number, gasLeft: number): Moved {
    return op === (39 satisfies typeof Op.RETURN)
      ? this.#fastReturn(ip, sp, steps, gasLeft)
      : this.#fastCall(op === (38 satisfies typeof Op.CALLW), ip, sp, steps, gasLeft);
  }

  /** CALL (or CALLW, `withWord`) in one step; see `#fastTransfer`. */
  #fastCall(withWord: boolean, ip: number, sp: number, steps: number, gasLeft: number): Moved {
    const caller = this.domain!;
    const slots = caller.slots;
    const stack = this.stack;
    const b = sp - (withWord ? 3 : 2);
    if (b < 0) return Moved.no;
    const a0 = stack[b]!;
    const a1 = stack[b + 1]!;
    if (!isPlainSlot(a0, slots.length) || !isPlainSlot(a1, slots.length)) return Moved.no;
    const entry = this.#callee(caller, slots[a0]!);
    if (entry === undefined) return Moved.no;
    const next = entry.domain;
    const ns = next.slots;
    if (ns[3 satisfies typeof DomainSlot.STATE]!.value !== (0 satisfies typeof DomainState.available))
      return Moved.no;
    const ipKey = ns[4 satisfies typeof DomainSlot.IP]!;
    const spKey = ns[6 satisfies typeof DomainSlot.POINTER]!;
    if (
      ipKey.kind !== (1 satisfies typeof KeyKind.number) ||
      spKey.kind !== (1 satisfies typeof KeyKind.number)
    )
      return Moved.no;
    const nextStack = entry.stack;
    let nsp = spKey.value;
    if (nsp < 0 || nsp > nextStack.size || (withWord && nsp >= nextStack.size)) return Moved.no;
    const message = this.#message(slots[a1]!);

    ns[9 satisfies typeof DomainSlot.RECV] = message;
    // The key this path left in the callee's RESUME slot, when it is still the only
    // copy (see `CpuState.storeMayChange`), is renewed in place; otherwise a new one.
    const last = entry.resume;
    if (
      last === null ||
      entry.resumeAt !== this.store.outsidePoint ||
      ns[11 satisfies typeof DomainSlot.RESUME] !== last ||
      !this.store.renewResumeKey(last, caller)
    ) {
      const resume = this.store.resumeKey(caller);
      ns[11 satisfies typeof DomainSlot.RESUME] = resume;
      entry.resume = resume;
      entry.resumeAt = this.store.outsidePoint;
    }
    // The operands leave the stack (zeroed, as every popped word is) before any page is
    // written: the callee's stack may be the caller's.
    const word = withWord ? stack[b + 2]! : 0;
    stack[b] = 0;
    stack[b + 1] = 0;
    if (withWord) {
      stack[b + 2] = 0;
      // (Its POINTER slot is written when it leaves, as for any running domain.)
      if (nextStack.runCache !== undefined) nextStack.changes++;
      nextStack.words[nsp++] = word;
    }
    ns[3 satisfies typeof DomainSlot.STATE] = RUNNING;
    slots[3 satisfies typeof DomainSlot.STATE] = withWord ? WAITING_WORD : WAITING;
    slots[4 satisfies typeof DomainSlot.IP] = numberKey(ip + 1);
    slots[6 satisfies typeof DomainSlot.POINTER] = numberKey(b);
    return this.#enterNext(next, entry, ipKey.value, nsp, steps, gasLeft);
  }

  /** RETURN in one step; see `#fastTransfer`. */
  #fastReturn(ip: number, sp: number, steps: number, gasLeft: number): Moved {
    const me = this.domain!;
    const slots = me.slots;
    const stack = this.stack;
    const b = sp - 3;
    if (b < 0) return Moved.no;
    const a0 = stack[b]!;
    const a1 = stack[b + 1]!;
    if (!isPlainSlot(a0, slots.length) || !isPlainSlot(a1, slots.length)) return Moved.no;
    const resume = slots[a0]!;
    const entry = this.#caller(me, resume);
    if (entry === undefined) return Moved.no;
    const next = entry.domain;
    if (next.resumeGen !== resume.value) return Moved.no;
    const ns = next.slots;
    const state = ns[3 satisfies typeof DomainSlot.STATE]!.value;
    const push = state === (6 satisfies typeof DomainState.waitingWord);
    if (state !== (2 satisfies typeof DomainState.waiting) && !push) return Moved.no;
    const ipKey = ns[4 satisfies typeof DomainSlot.IP]!;
    const spKey = ns[6 satisfies typeof DomainSlot.POINTER]!;
    if (
      ipKey.kind !== (1 satisfies typeof KeyKind.number) ||
      spKey.kind !== (1 satisfies typeof KeyKind.number)
    )
      return Moved.no;
    const nextStack = entry.stack;
    let nsp = spKey.value;
    if (nsp < 0 || nsp > nextStack.size || (push && nsp >= nextStack.size)) return Moved.no;
    const reply = this.#message(slots[a1]!);

    this.store.bumpResumeGen(next);
    // Generations start again from 0 once in 2^32, nulling keys all over the store.
    if (next.resumeGen === 0) this.storeMayChange();
    ns[9 satisfies typeof DomainSlot.RECV] = reply;
    const word = stack[b + 2]!;
    stack[b] = 0;
    stack[b + 1] = 0;
    stack[b + 2] = 0;
    if (push) {
      if (nextStack.runCache !== undefined) nextStack.changes++;
      nextStack.words[nsp++] = word;
    }
    ns[3 satisfies typeof DomainSlot.STATE] = RUNNING;
    slots[3 satisfies typeof DomainSlot.STATE] = AVAILABLE;
    slots[4 satisfies typeof DomainSlot.IP] = numberKey(ip + 1);
    slots[6 satisfies typeof DomainSlot.POINTER] = numberKey(b);
    return this.#enterNext(next, entry, ipKey.value, nsp, steps, gasLeft);
  }

  /** The message key in `key`'s slot as it reads now; a resume key sent on is a copy (see `CpuState.storeMayChange`). */
  #message(key: Key): Key {
    const k = key.kind > (1 satisfies typeof KeyKind.number) ? this.store.normalize(key) : key;
    if (k.kind === (5 satisfies typeof KeyKind.resume)) this.storeMayChange();
    return k;
  }

  /**
   * Enter `next` (its `entry` checked by `entryOf`) at (`ip`, `sp`) after a
   * one-step transfer: on the pending borrow when it runs on that meter, else
   * after paying for this one (the loop's counters `steps`, `gasLeft`) on a new one.
   * (`broken` stays null: a domain with a deferred fault has no code to fetch a
   * transfer from. `activated` is only a hint, checked against the kernel's id.)
   */
  #enterNext(
    next: KeyPage,
    entry: DomainPages,
    ip: number,
    sp: number,
    steps: number,
    gasLeft: number,
  ): Moved {
    this.store.kernel.active = next.id;
    this.domain = next;
    this.ip = ip;
    this.sp = sp;
    const meter = entry.meter!;
    let moved: Moved = Moved.sameBorrow;
    if (meter !== this.meter) {
      this.lastSteps = steps;
      this.gasLeft = gasLeft;
      this.settle();
      this.borrowFrom(meter);
      moved = Moved.newBorrow;
    }
    this.timeKey = entry.timeKey;
    this.switchPages(entry);
    return moved;
  }

  /**
   * The checked run-cache entry (`entryOf`) of the live domain the gate key `gate`
   * in `caller`'s slot designates, or undefined. First the CPU's last gate key (a
   * conversation between two domains); then the caller's own: within one
   * `Store.outsidePoint` point nothing is severed or destroyed (see
   * `CpuState.storeMayChange`), so the same key object designates the same live
   * domain, and each domain's entry remembers its last one's id for the point (down
   * a chain, the CPU's last key is never the caller's).
   */
  #callee(caller: KeyPage, gate: Key): DomainPages | undefined {
    const c = this.callTarget;
    if (c.key === gate && c.epoch === this.store.epoch) return this.entryOf(c.domain!);
    const own = caller.runCache as DomainPages | undefined;
    const point = this.store.outsidePoint;
    if (own !== undefined && own.callKey === gate && own.callAt === point)
      return this.entryOf(this.store.object(own.callId) as KeyPage);
    if (gate.kind !== (4 satisfies typeof KeyKind.domain)) return undefined;
    const next = this.#lookUpTarget(gate, c);
    if (next === undefined) return undefined;
    if (own !== undefined) {
      own.callKey = gate;
      own.callId = next.id;
      own.callAt = point;
    }
    return this.entryOf(next);
  }

  /** `#callee` for RETURN: the entry of the live domain the resume key `resume` in `me`'s slot designates (its generation unchecked). */
  #caller(me: KeyPage, resume: Key): DomainPages | undefined {
    const c = this.returnTarget;
    if (c.key === resume && c.epoch === this.store.epoch) return this.entryOf(c.domain!);
    const own = me.runCache as DomainPages | undefined;
    const point = this.store.outsidePoint;
    if (own !== undefined && own.returnKey === resume && own.returnAt === point)
      return this.entryOf(this.store.object(own.returnId) as KeyPage);
    if (resume.kind !== (5 satisfies typeof KeyKind.resume)) return undefined;
    const next = this.#lookUpTarget(resume, c);
    if (next === undefined) return undefined;
    if (own !== undefined) {
      own.returnKey = resume;
      own.returnId = next.id;
      own.returnAt = point;
    }
    return this.entryOf(next);
  }

  /**
   * The live domain a gate (CALL) or resume (RETURN) key designates, looked up in
   * the store, or undefined; `c` remembers it with the store's epoch. Keys never
   * change what they designate (a renewed resume key keeps its domain), and while
   * the epoch holds nothing was severed or destroyed, so the same key object
   * designates the same live domain without looking it up again (`#callee`).
   */
  #lookUpTarget(key: Key, c: TargetCache): KeyPage | undefined {
    const epoch = this.store.epoch;
    const o = this.store.object(key.target);
    if (
      o === undefined ||
      o.version !== key.version ||
      o.kind !== (1 satisfies typeof ObjectKind.keyPage) ||
      o.isDomain !== true
    )
      return undefined;
    c.key = key;
    c.epoch = epoch;
    c.domain = o;
    return o;
  }
}
