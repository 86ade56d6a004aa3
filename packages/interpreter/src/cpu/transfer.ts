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
import { type CompiledCode, compiledNow } from '../jit.js';
import * as K from './constants.js';
import type { DomainPages } from './pages.js';
import { CpuScheduler } from './schedule.js';
import type { TargetCache } from './state.js';

// Module-local copies of the constants used on this hot path: V8 folds a module's own
// constants into optimised code, but loads an imported binding through its cell at
// each use (and a frozen object's property after it), as before the split.
const CHUNK = K.CHUNK;
const fuelFor = K.fuelFor;
const isPlainSlot = K.isPlainSlot;
const Moved = K.Moved;
const RUNNING = K.RUNNING;
const TRANSFER_EXTRA = K.TRANSFER_EXTRA;
const TRANSFER_GAS = K.TRANSFER_GAS;
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
   * regs[2] (and in regs[4] the units of it compiled code spent that were no
   * steps), with Moved.newBorrow (any transfer borrowed anew) the counters are in
   * the fields.
   *
   * What a conversation changes is written where others can see it only when it
   * leaves this loop (`#commit`), the same as writing it at every transfer, as
   * nothing in the loop reads it: the domain each transfer enters is kept in
   * locals (its run-cache entry, its registers in regs[0] and regs[1], where
   * compiled code takes them, which compiled code reaches through its entry's
   * views) rather than in the CPU's dozen fields; the IP, POINTER and STATE slots of
   * the domains it leaves are held in their entries (`#leave`); each entry keeps its
   * code page's compiled form for the conversation. Together about a tenth of the
   * two-domain round trip (the README's internals).
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
    this.borrowed = false;
    let entry = this.#fastTransfer(op, this.domain!, this.stack, ip, sp, stepsAt - fuel, gasAt + fuel);
    if (entry === undefined) return Moved.no;
    let result: Moved = Moved.sameBorrow;
    let noSteps = 0;
    const jit = this.jit !== false;
    let budget = this.budget;
    let followed = 0;
    // The entered domain's registers as the transfer left them (for `#commit` should anything throw).
    let enteredIp = regs[0]!;
    let enteredSp = regs[1]!;
    try {
      for (;;) {
        if (this.borrowed) {
          // The counters start again from what the transfer left in the fields.
          this.borrowed = false;
          result = Moved.newBorrow;
          const steps = this.lastSteps;
          const gas = this.gasLeft;
          fuel = fuelFor(gas, limit - steps, CHUNK);
          stepsAt = steps + fuel;
          gasAt = gas - fuel;
          budget = this.budget;
        }
        // Enter it, as `CpuPages.usePages` does: a stack page that also runs as code counts a change.
        const codePage = entry.code;
        const stackPage = entry.stack;
        if (stackPage.runCache !== undefined) stackPage.changes++;
        // Its code page's compiled form: the one its entry took in this conversation while
        // the page has not changed since (a page's compiled form for one `changes` count
        // never changes), else looked up (`DomainPages.compiled`).
        let fn: CompiledCode | null = null;
        if (jit) {
          if (entry.compiledAt === codePage.changes) fn = entry.compiled;
          else if (codePage !== stackPage) {
            fn = compiledNow(codePage);
            if (fn !== null) {
              if (entry.compiledAt === -1) this.holdingCode.push(entry);
              entry.compiled = fn;
              entry.compiledAt = codePage.changes;
            }
          }
        }
        if (fn === null) {
          // Not compiled now: the CPU takes the page (`compile` counts nothing, and may
          // compile it now), and goes on here only if that gave it compiled code.
          this.#commit(entry, enteredIp, enteredSp, null);
          fn = this.compiled;
          if (fn === null) break;
        }
        const words = stackPage.words;
        regs[2] = fuel;
        regs[3] = words.length;
        regs[4] = 0;
        regs[5] = budget - (gasAt + fuel);
        fn(words, regs, entry.views); // leaves ip, sp and the fuel left in regs
        const at = regs[0]!;
        const next = codePage.words[at];
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
          this.#commit(entry, at, nsp, fn);
          break;
        }
        // Paid: TRANSFER_GAS units of fuel, one step (so steps at fuel 0 come TRANSFER_EXTRA earlier).
        const left = fuel - TRANSFER_GAS;
        const after = this.#fastTransfer(
          next,
          entry.domain,
          words,
          at,
          nsp,
          stepsAt - TRANSFER_EXTRA - left,
          gasAt + left,
        );
        if (after === undefined) {
          this.#commit(entry, at, nsp, fn);
          break;
        }
        entry = after;
        enteredIp = regs[0]!;
        enteredSp = regs[1]!;
        fuel = left;
        stepsAt -= TRANSFER_EXTRA;
        followed++;
      }
    } catch (e) {
      this.followed = followed;
      // A host failure (compiled code never throws a guest's fault): the fields say
      // which domain was entered, as they did when each transfer wrote them.
      this.#commit(entry, enteredIp, enteredSp, null);
      throw e;
    }
    this.followed = followed;
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
   * Make `entry`'s domain the CPU's running domain at (ip, sp), on its pages, with
   * `fn` its code page's compiled form (null: take the page's as `compile` does),
   * the effects `CpuPages.usePages` has on a domain just
   * resolved (it takes the compiled form again whatever ran before: `compiledNow` is
   * a few loads, fewer than comparing the pages with the CPU's first).
   */
  #commit(entry: DomainPages, ip: number, sp: number, fn: CompiledCode | null): void {
    const code = entry.code;
    const stack = entry.stack;
    const domain = entry.domain;
    this.store.kernel.active = domain.id;
    this.domain = domain;
    this.ip = ip;
    this.sp = sp;
    this.timeKey = entry.timeKey;
    this.code = code.words;
    this.stack = stack.words;
    this.views = entry.views;
    this.stackPage = stack;
    if (fn !== null) {
      this.codePage = code;
      this.compiledAt = code.changes;
      this.compiled = fn;
    } else this.compile(code);
    if (this.held.length > 0) this.#writeHeld();
    if (this.holdingCode.length > 0) this.#dropCode();
  }

  /**
   * CALL, CALLW or RETURN at (ip, sp) in the common case, checked and done in one
   * step: a CALL to an available domain or a RETURN to a waiting caller, on a live
   * time meter, whose pages the cache holds. `me` is the running domain, `stack` its
   * stack's words. Makes the transfer with exactly the effects of `transfer` then
   * `enter` (`#enterNext`), and returns the next domain's entry with its registers
   * in regs[0] and regs[1]: on the same borrow, or (another meter, `borrowed` set)
   * settling it, with the loop's counters `steps` and `gasLeft`, and borrowing anew.
   * Otherwise changes nothing and returns undefined: the general path then runs the
   * instruction, and reports its fault if it has one. Each writes in the general
   * path's order (a stack page may be shared). CALL and RETURN have a path each,
   * alike in shape: one function with their differences as branches was about 7 ns
   * slower per round trip.
   */
  #fastTransfer(
    op: number,
    me: KeyPage,
    stack: Int32Array,
    ip: number,
    sp: number,
    steps: number,
    gasLeft: number,
  ): DomainPages | undefined {
    return op === (39 satisfies typeof Op.RETURN)
      ? this.#fastReturn(me, stack, ip, sp, steps, gasLeft)
      : this.#fastCall(op === (38 satisfies typeof Op.CALLW), me, stack, ip, sp, steps, gasLeft);
  }

  /** CALL (or CALLW, `withWord`) in one step; see `#fastTransfer`. */
  #fastCall(
    withWord: boolean,
    caller: KeyPage,
    stack: Int32Array,
    ip: number,
    sp: number,
    steps: number,
    gasLeft: number,
  ): DomainPages | undefined {
    const slots = caller.slots;
    const b = sp - (withWord ? 3 : 2);
    if (b < 0) return undefined;
    const a0 = stack[b]!;
    const a1 = stack[b + 1]!;
    if (!isPlainSlot(a0, slots.length) || !isPlainSlot(a1, slots.length)) return undefined;
    const entry = this.#callee(caller, slots[a0]!);
    if (entry === undefined) return undefined;
    const next = entry.domain;
    const ns = next.slots;
    // Its state: held in its entry when it left in this conversation (`#leave`), else in its slot.
    const held = entry.state;
    if (
      (held >= 0 ? held : ns[3 satisfies typeof DomainSlot.STATE]!.value) !==
      (0 satisfies typeof DomainState.available)
    )
      return undefined;
    // Its registers: held in its entry when it left in this conversation (`#leave`), else in its slots.
    let nip: number;
    let nsp: number;
    if (entry.ip >= 0) {
      nip = entry.ip;
      nsp = entry.sp;
    } else {
      const ipKey = ns[4 satisfies typeof DomainSlot.IP]!;
      const spKey = ns[6 satisfies typeof DomainSlot.POINTER]!;
      if (
        ipKey.kind !== (1 satisfies typeof KeyKind.number) ||
        spKey.kind !== (1 satisfies typeof KeyKind.number)
      )
        return undefined;
      nip = ipKey.value;
      nsp = spKey.value;
    }
    const nextStack = entry.stack;
    if (nsp < 0 || nsp > nextStack.size || (withWord && nsp >= nextStack.size)) return undefined;
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
    entry.state = -1;
    this.#leave(
      caller,
      ip + 1,
      b,
      withWord ? (6 satisfies typeof DomainState.waitingWord) : (2 satisfies typeof DomainState.waiting),
    );
    return this.#enterNext(entry, nip, nsp, steps, gasLeft);
  }

  /** RETURN in one step; see `#fastTransfer`. */
  #fastReturn(
    me: KeyPage,
    stack: Int32Array,
    ip: number,
    sp: number,
    steps: number,
    gasLeft: number,
  ): DomainPages | undefined {
    const slots = me.slots;
    const b = sp - 3;
    if (b < 0) return undefined;
    const a0 = stack[b]!;
    const a1 = stack[b + 1]!;
    if (!isPlainSlot(a0, slots.length) || !isPlainSlot(a1, slots.length)) return undefined;
    const resume = slots[a0]!;
    const entry = this.#caller(me, resume);
    if (entry === undefined) return undefined;
    const next = entry.domain;
    if (next.resumeGen !== resume.value) return undefined;
    const ns = next.slots;
    const held = entry.state;
    const state = held >= 0 ? held : ns[3 satisfies typeof DomainSlot.STATE]!.value;
    const push = state === (6 satisfies typeof DomainState.waitingWord);
    if (state !== (2 satisfies typeof DomainState.waiting) && !push) return undefined;
    // Its registers: held in its entry when it left in this conversation (`#leave`), else in its slots.
    let nip: number;
    let nsp: number;
    if (entry.ip >= 0) {
      nip = entry.ip;
      nsp = entry.sp;
    } else {
      const ipKey = ns[4 satisfies typeof DomainSlot.IP]!;
      const spKey = ns[6 satisfies typeof DomainSlot.POINTER]!;
      if (
        ipKey.kind !== (1 satisfies typeof KeyKind.number) ||
        spKey.kind !== (1 satisfies typeof KeyKind.number)
      )
        return undefined;
      nip = ipKey.value;
      nsp = spKey.value;
    }
    const nextStack = entry.stack;
    if (nsp < 0 || nsp > nextStack.size || (push && nsp >= nextStack.size)) return undefined;
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
    entry.state = -1;
    this.#leave(me, ip + 1, b, 0 satisfies typeof DomainState.available);
    return this.#enterNext(entry, nip, nsp, steps, gasLeft);
  }

  /** The message key in `key`'s slot as it reads now; a resume key sent on is a copy (see `CpuState.storeMayChange`). */
  #message(key: Key): Key {
    const k = key.kind > (1 satisfies typeof KeyKind.number) ? this.store.normalize(key) : key;
    if (k.kind === (5 satisfies typeof KeyKind.resume)) this.storeMayChange();
    return k;
  }

  /**
   * The domain `page` leaves at a one-step transfer, with its registers (ip, sp) and
   * the state it waits in (`state`): they go to its IP, POINTER and STATE slots, but
   * only when the conversation ends (`#commit`, `#writeHeld`); until then its
   * run-cache entry holds them (`ip`, `sp`, `state`), and the one-step path that enters
   * it again reads them there (and writes RUNNING to its STATE slot at once, since
   * its compiled code may read its own STATE with KEYNUM). Within the conversation
   * nothing else reads those slots: compiled code reads a domain's own IP and
   * POINTER as its registers (`PageViews`) and reaches no other domain's slots;
   * every other instruction runs after the conversation ended. So what any reader
   * sees is what writing them at each transfer would have left, as number keys are
   * values (which key object holds a number is never observed; the state keys are
   * the shared small ones either way). A domain without an entry of its own (none
   * here: it runs, so it has one) has them written at once.
   */
  #leave(page: KeyPage, ip: number, sp: number, state: number): void {
    const own = page.runCache as DomainPages | undefined;
    if (own === undefined || own.domain !== page) {
      page.slots[3 satisfies typeof DomainSlot.STATE] = numberKey(state);
      page.slots[4 satisfies typeof DomainSlot.IP] = numberKey(ip);
      page.slots[6 satisfies typeof DomainSlot.POINTER] = numberKey(sp);
      return;
    }
    if (own.ip < 0) this.held.push(own);
    own.state = state;
    own.ip = ip;
    own.sp = sp;
  }

  /** Write the registers held in run-cache entries to their domains' IP and POINTER slots (see `#leave`). */
  #writeHeld(): void {
    const held = this.held;
    for (let i = 0; i < held.length; i++) {
      const e = held[i]!;
      const slots = e.domain.slots;
      // (Not when it was entered again since: its slot says RUNNING, as it should.)
      if (e.state >= 0) slots[3 satisfies typeof DomainSlot.STATE] = numberKey(e.state);
      e.state = -1;
      slots[4 satisfies typeof DomainSlot.IP] = numberKey(e.ip);
      slots[6 satisfies typeof DomainSlot.POINTER] = numberKey(e.sp);
      e.ip = -1;
    }
    held.length = 0;
  }

  /** Entries let go of the compiled code they took in the conversation (see `DomainPages.compiled`). */
  #dropCode(): void {
    const holding = this.holdingCode;
    for (let i = 0; i < holding.length; i++) {
      const e = holding[i]!;
      e.compiled = null;
      e.compiledAt = -1;
    }
    holding.length = 0;
  }

  /**
   * Enter `entry`'s domain (checked by `entryOf`) at (`ip`, `sp`) after a one-step
   * transfer: its registers go to regs[0] and regs[1], the rest of it to the fields
   * when the conversation ends (`#commit`). On the pending borrow when it runs on
   * that meter, else after paying for this one (the loop's counters `steps`,
   * `gasLeft`) on a new one, setting `borrowed`. (`broken` stays null: a domain with
   * a deferred fault has no code to fetch a transfer from. `activated` is only a
   * hint, checked against the kernel's id.)
   */
  #enterNext(entry: DomainPages, ip: number, sp: number, steps: number, gasLeft: number): DomainPages {
    const regs = this.regs;
    regs[0] = ip;
    regs[1] = sp;
    const meter = entry.meter!;
    if (meter !== this.meter) {
      this.lastSteps = steps;
      this.gasLeft = gasLeft;
      this.settle();
      this.borrowFrom(meter);
      this.borrowed = true;
    }
    return entry;
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
