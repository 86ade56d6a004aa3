// The processor: the dispatch loop with the hot arithmetic inline, and the slow path
// for everything else. The Cpu's state and the rest of its behaviour are layers in
// cpu/ (state → compiled → pages → schedule → transfer → this); see the README's
// internals. Internal to the package.
//
// Code on the domain-switch path writes layout numbers as literals checked with
// `satisfies` (`slots[3 satisfies typeof DomainSlot.STATE]`), as the loop's case
// labels do: in V8 each use of an imported frozen constant costs several dependent
// loads, which measurably slowed CALL + RETURN.
import { GuestFault } from '@keyvm/core';
import { INSTRUCTIONS, type Op, type Opcode } from '@keyvm/isa';
import * as K from './cpu/constants.js';
import { CpuTransfers } from './cpu/transfer.js';
import { transfer } from './ops/control.js';
import { describeFault } from './ops/describe.js';
import { executeHeavy } from './ops/index.js';
import { restoreOperands, underflowMessage } from './ops/operands.js';
import { METER_REFUSED } from './page-views.js';

// Module-local copies of the constants used on this hot path: V8 folds a module's own
// constants into optimised code, but loads an imported binding through its cell at
// each use (and a frozen object's property after it), as before the split.
const badJump = K.badJump;
const CONTINUE = K.CONTINUE;
const fuelFor = K.fuelFor;
const Moved = K.Moved;
const N_OPS = K.N_OPS;
const Next = K.Next;
const Reload = K.Reload;
const Stop = K.Stop;
const TRANSFER_EXTRA = K.TRANSFER_EXTRA;
/** NUMKEY's gas beyond the unit every instruction takes (a constant: no size or meter gas). */
const NUMKEY_EXTRA = INSTRUCTIONS[46 satisfies typeof Op.NUMKEY].gas - 1;
type Next = K.Next;
type Reload = K.Reload;
type Stop = K.Stop;

export class Cpu extends CpuTransfers {
  /**
   * Run the entered domain for at most `limit` instructions. Returns why it stopped;
   * `lastSteps` says how many instructions completed.
   *
   * One counter, `fuel`, pays for both the gas and the step limit: each unit is one
   * gas and at most one step. Every inline instruction costs 1 gas (checked against
   * the ISA table at load), so between synchronisation points gas and steps fall
   * together; a transfer takes TRANSFER_GAS units for its one step and moves the
   * steps base back by the rest. Heavy instructions settle the difference. An IP outside the code reads `undefined` and lands in the
   * default branch, so the fast path has no range check of its own.
   */
  execute(limit: number): Stop {
    this.storeMayChange(); // the host ran since the last call
    let code = this.code;
    let stack = this.stack;
    let stackLen = stack.length;
    let ip = this.ip;
    let sp = this.sp;
    // Gas left and steps taken at the last synchronisation point.
    let gasBase = this.gasLeft;
    let stepsBase = 0;
    let fuel0 = fuelFor(gasBase, limit, this.chunk());
    let fuel = fuel0;
    // Fuel when the running code page last counted its warm-up (a transfer changes page mid-chunk).
    let mark = fuel0;
    // Set by a case that changed the registers through the fields: reload the locals from them.
    let reload: Reload = Reload.none;
    let stop: Stop | typeof CONTINUE = Stop.steps;
    let fault: GuestFault | null = null;
    // Set by a case that leaves its instruction to the slow path (a heavy one, or an
    // access the page views refused).
    let heavy = false;
    const regs = this.regs;
    if (this.compiled !== null) {
      this.runCompiled(stack, ip, sp, fuel, gasBase - (fuel0 - fuel));
      ip = regs[0]!;
      sp = regs[1]!;
      fuel = regs[2]!;
      stepsBase -= regs[4]!;
    }

    loop: for (;;) {
      if (--fuel < 0) {
        fuel = 0;
        if (stepsBase + fuel0 >= limit) break;
        if (gasBase - fuel0 < 1) {
          stop = Stop.gas;
          break;
        }
        // Only the chunk cap ran out: count the chunk towards compiling, take the next.
        this.warm(mark);
        gasBase -= fuel0;
        stepsBase += fuel0;
        mark = fuel0 = fuel = fuelFor(gasBase, limit - stepsBase, this.chunk());
        if (this.compiled !== null) {
          this.runCompiled(stack, ip, sp, fuel, gasBase - (fuel0 - fuel));
          ip = regs[0]!;
          sp = regs[1]!;
          fuel = regs[2]!;
          stepsBase -= regs[4]!;
        }
        continue;
      }
      const op = code[ip];
      // Literal case labels (checked against the ISA table by `satisfies`) let V8
      // compile this switch to a jump table.
      switch (op) {
        case 0 satisfies typeof Op.PUSH: {
          const v = code[ip + 1];
          if (v === undefined) {
            fuel++;
            fault = new GuestFault('bad-opcode', `PUSH at ${ip} has no immediate word`);
            break loop;
          }
          if (sp >= stackLen) {
            fuel++;
            fault = new GuestFault('stack-overflow', 'PUSH onto a full stack');
            break loop;
          }
          stack[sp++] = v;
          ip += 2;
          continue;
        }
        case 1 satisfies typeof Op.ADD:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = (stack[sp - 1]! + stack[sp]!) | 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 2 satisfies typeof Op.SUB:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = (stack[sp - 1]! - stack[sp]!) | 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 3 satisfies typeof Op.MUL:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = Math.imul(stack[sp - 1]!, stack[sp]!);
          stack[sp] = 0;
          ip++;
          continue;
        case 6 satisfies typeof Op.AND:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! & stack[sp]!;
          stack[sp] = 0;
          ip++;
          continue;
        case 7 satisfies typeof Op.OR:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! | stack[sp]!;
          stack[sp] = 0;
          ip++;
          continue;
        case 8 satisfies typeof Op.XOR:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! ^ stack[sp]!;
          stack[sp] = 0;
          ip++;
          continue;
        case 27 satisfies typeof Op.EQ:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1] === stack[sp] ? 1 : 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 28 satisfies typeof Op.NE:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1] !== stack[sp] ? 1 : 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 29 satisfies typeof Op.LT:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! < stack[sp]! ? 1 : 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 30 satisfies typeof Op.LE:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! <= stack[sp]! ? 1 : 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 31 satisfies typeof Op.GT:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! > stack[sp]! ? 1 : 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 32 satisfies typeof Op.GE:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! >= stack[sp]! ? 1 : 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 35 satisfies typeof Op.SHL:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! << stack[sp]!;
          stack[sp] = 0;
          ip++;
          continue;
        case 36 satisfies typeof Op.SHR:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = stack[sp - 1]! >> stack[sp]!;
          stack[sp] = 0;
          ip++;
          continue;
        case 37 satisfies typeof Op.SHRU:
          if (sp < 2) break;
          sp--;
          stack[sp - 1] = (stack[sp - 1]! >>> stack[sp]!) | 0;
          stack[sp] = 0;
          ip++;
          continue;
        case 4 satisfies typeof Op.DIV:
        case 5 satisfies typeof Op.MOD: {
          if (sp < 2) break;
          const b = stack[sp - 1]!;
          if (b === 0) {
            fuel++;
            fault = new GuestFault('division-by-zero', `${INSTRUCTIONS[op]!.name} by zero`);
            break loop;
          }
          const a = stack[sp - 2]!;
          let r: number;
          if (op === 4) {
            r = Math.floor(a / b) | 0;
          } else {
            r = a % b;
            if (r !== 0 && (r ^ b) < 0) r += b;
          }
          stack[sp - 2] = r | 0;
          stack[--sp] = 0;
          ip++;
          continue;
        }
        case 9 satisfies typeof Op.NOT:
          if (sp < 1) break;
          stack[sp - 1] = ~stack[sp - 1]!;
          ip++;
          continue;
        case 34 satisfies typeof Op.NEG:
          if (sp < 1) break;
          stack[sp - 1] = -stack[sp - 1]! | 0;
          ip++;
          continue;
        case 33 satisfies typeof Op.ISZERO:
          if (sp < 1) break;
          stack[sp - 1] = stack[sp - 1] === 0 ? 1 : 0;
          ip++;
          continue;
        case 23 satisfies typeof Op.DUP:
          if (sp < 1) break;
          if (sp >= stackLen) {
            fuel++;
            fault = new GuestFault('stack-overflow', 'DUP onto a full stack');
            break loop;
          }
          stack[sp] = stack[sp - 1]!;
          sp++;
          ip++;
          continue;
        case 24 satisfies typeof Op.DROP:
          if (sp < 1) break;
          stack[--sp] = 0;
          ip++;
          continue;
        case 25 satisfies typeof Op.SWAP: {
          if (sp < 2) break;
          const t = stack[sp - 1]!;
          stack[sp - 1] = stack[sp - 2]!;
          stack[sp - 2] = t;
          ip++;
          continue;
        }
        case 26 satisfies typeof Op.OVER:
          if (sp < 2) break;
          if (sp >= stackLen) {
            fuel++;
            fault = new GuestFault('stack-overflow', 'OVER onto a full stack');
            break loop;
          }
          stack[sp] = stack[sp - 2]!;
          sp++;
          ip++;
          continue;
        case 53 satisfies typeof Op.PICK: {
          const k = code[ip + 1];
          if (k === undefined) {
            fuel++;
            fault = new GuestFault('bad-opcode', `PICK at ${ip} has no immediate word`);
            break loop;
          }
          if (k < 0 || k >= sp) {
            fuel++;
            fault = new GuestFault('stack-underflow', `PICK ${k} with ${sp} words on the stack`);
            break loop;
          }
          if (sp >= stackLen) {
            fuel++;
            fault = new GuestFault('stack-overflow', 'PICK onto a full stack');
            break loop;
          }
          stack[sp] = stack[sp - 1 - k]!;
          sp++;
          ip += 2;
          continue;
        }
        case 54 satisfies typeof Op.PUT: {
          const k = code[ip + 1];
          if (k === undefined) {
            fuel++;
            fault = new GuestFault('bad-opcode', `PUT at ${ip} has no immediate word`);
            break loop;
          }
          if (k < 0 || k > sp - 2) {
            fuel++;
            fault = new GuestFault('stack-underflow', `PUT ${k} with ${sp} words on the stack`);
            break loop;
          }
          sp--;
          stack[sp - 1 - k] = stack[sp]!;
          stack[sp] = 0;
          ip += 2;
          continue;
        }
        case 22 satisfies typeof Op.NOP:
          ip++;
          continue;
        case 17 satisfies typeof Op.JUMP:
          if (sp < 1) break;
          // A target past the end is a fault; the end itself stops as falling off does.
          if (stack[sp - 1]! >>> 0 > code.length) {
            fuel++;
            fault = badJump('JUMP', stack[sp - 1]!, code.length);
            break loop;
          }
          ip = stack[--sp]!;
          stack[sp] = 0;
          continue;
        case 18 satisfies typeof Op.JUMPIF:
          if (sp < 2) break;
          if (stack[sp - 1] !== 0 && stack[sp - 2]! >>> 0 > code.length) {
            fuel++;
            fault = badJump('JUMPIF', stack[sp - 2]!, code.length);
            break loop;
          }
          sp -= 2;
          ip = stack[sp + 1] !== 0 ? stack[sp]! : ip + 1;
          stack[sp] = 0;
          stack[sp + 1] = 0;
          continue;
        case 14 satisfies typeof Op.CALL:
        case 38 satisfies typeof Op.CALLW:
        case 39 satisfies typeof Op.RETURN: {
          // A transfer: one unit of fuel paid for it; it takes TRANSFER_EXTRA more, which
          // pay gas but are no steps. With fewer left (gas, steps or the chunk run short)
          // the slow path runs it, checking gas and steps exactly.
          if (fuel < TRANSFER_EXTRA) {
            fuel++;
            this.ip = ip;
            this.sp = sp;
            this.lastSteps = stepsBase + (fuel0 - fuel);
            this.gasLeft = gasBase - (fuel0 - fuel);
            this.warm(mark - fuel);
            stop = this.#slowPath(op, limit);
            if (stop !== CONTINUE) return stop;
            reload = Reload.all;
            break;
          }
          // The page it leaves counts its warm-up.
          if (this.compiled === null) this.warm(mark - fuel);
          fuel -= TRANSFER_EXTRA;
          stepsBase -= TRANSFER_EXTRA;
          // The loop follows the next domain at once. In the common case all in one step
          // (`followTransfers`, on the same borrow or a new one); else by the general
          // path, which changes nothing when the transfer faults and follows on the same borrow.
          const moved =
            fuel > 0 && this.fastTransfers
              ? this.followTransfers(op, ip, sp, fuel, stepsBase + fuel0, gasBase - fuel0, limit)
              : Moved.no;
          if (moved === Moved.sameBorrow) {
            fuel = regs[2]!;
            // The transfers it followed took TRANSFER_EXTRA units each that are no steps, and
            // the compiled code it ran regs[4] more (NUMKEY, METERREAD).
            stepsBase -= this.followed * TRANSFER_EXTRA + regs[4]!;
          }
          mark = fuel;
          if (moved === Moved.no) {
            this.ip = ip;
            this.sp = sp;
            this.storeMayChange();
            this.slotsRead.length = 0;
            this.taken = 0;
            try {
              transfer(this, op);
            } catch (e) {
              if (!(e instanceof GuestFault)) throw e;
              restoreOperands(this);
              // Not done: its fuel goes back.
              fuel += 1 + TRANSFER_EXTRA;
              stepsBase += TRANSFER_EXTRA;
              fault = describeFault(this, op, e);
              break loop;
            }
            if (!(fuel > 0 && this.enterOnBorrow())) {
              const used = fuel0 - fuel;
              this.lastSteps = stepsBase + used;
              this.gasLeft = gasBase - used;
              if (this.domain === null && !(this.lastSteps < limit && this.enterActive()))
                return Stop.switched;
              reload = Reload.all;
              break;
            }
          } else if (moved === Moved.newBorrow) {
            // A transfer settled the borrow and borrowed on the next domain's meter: new counters.
            reload = Reload.all;
            break;
          }
          if (this.compiled !== null || !this.jitting()) {
            reload = Reload.registers;
            break;
          }
          // Its code page is still warming up: through the fields, for the shorter chunk.
          const used = fuel0 - fuel;
          this.lastSteps = stepsBase + used;
          this.gasLeft = gasBase - used;
          reload = Reload.all;
          break;
        }
        // Page and key access through the domain's own slots, as compiled code runs it
        // (PageViews): inline when the view answers, else (a refused slot or key, an
        // index out of range, too few operands) the slow path below runs its heavy
        // handler, faults included. Each costs 1 gas, like the inline ones.
        case 19 satisfies typeof Op.PAGEREAD: {
          // slot index -- word
          const words = sp >= 2 ? this.views!.read(stack[sp - 2]!) : null;
          const i = words !== null ? stack[sp - 1]! : -1;
          if (words !== null && i >>> 0 < words.length) {
            sp--;
            stack[sp - 1] = words[i]!;
            stack[sp] = 0;
            ip++;
            continue;
          }
          heavy = true;
          break;
        }
        case 20 satisfies typeof Op.PAGEWRITE: {
          // word slot index --
          const words = sp >= 3 ? this.views!.write(stack[sp - 2]!) : null;
          const i = words !== null ? stack[sp - 1]! : -1;
          if (words !== null && i >>> 0 < words.length) {
            words[i] = stack[sp - 3]!;
            sp -= 3;
            stack[sp] = 0;
            stack[sp + 1] = 0;
            stack[sp + 2] = 0;
            ip++;
            continue;
          }
          heavy = true;
          break;
        }
        case 13 satisfies typeof Op.PAGESIZEGET: {
          // slot -- size
          const words = sp >= 1 ? this.views!.read(stack[sp - 1]!) : null;
          if (words !== null) {
            stack[sp - 1] = words.length;
            ip++;
            continue;
          }
          heavy = true;
          break;
        }
        case 42 satisfies typeof Op.KEYTYPE: {
          // slot -- kind
          const kind = sp >= 1 ? this.views!.keyType(stack[sp - 1]!) : -1;
          if (kind >= 0) {
            stack[sp - 1] = kind;
            ip++;
            continue;
          }
          heavy = true;
          break;
        }
        case 47 satisfies typeof Op.KEYNUM: {
          // slot -- word
          const key = sp >= 1 ? this.views!.numberKey(stack[sp - 1]!) : null;
          if (key !== null) {
            stack[sp - 1] = key.value;
            ip++;
            continue;
          }
          heavy = true;
          break;
        }
        // NUMKEY and METERREAD as compiled code runs them (PageViews): their gas (more
        // than 1, one step) from the fuel, which the loop has already taken 1 of; what
        // the views refuse, or too little fuel, goes to the slow path (exact checks).
        case 46 satisfies typeof Op.NUMKEY: {
          // slot word --
          if (fuel >= NUMKEY_EXTRA && sp >= 2 && this.views!.numKey(stack[sp - 2]!, stack[sp - 1]!)) {
            fuel -= NUMKEY_EXTRA;
            stepsBase -= NUMKEY_EXTRA;
            sp -= 2;
            stack[sp] = 0;
            stack[sp + 1] = 0;
            ip++;
            continue;
          }
          heavy = true;
          break;
        }
        case 49 satisfies typeof Op.METERREAD: {
          // slot -- remaining
          const extra = sp >= 1 ? this.views!.meterCost() - 1 : fuel + 1;
          if (fuel >= extra) {
            // Gas used from the borrow, this instruction's included.
            const v = this.views!.meterRead(stack[sp - 1]!, this.budget - gasBase + (fuel0 - fuel) + extra);
            if (v !== METER_REFUSED) {
              fuel -= extra;
              stepsBase -= extra;
              stack[sp - 1] = v;
              ip++;
              continue;
            }
          }
          heavy = true;
          break;
        }
        default:
          heavy = true;
          break;
      }
      if (heavy) {
        heavy = false;
        // Off the code, a bad opcode or a heavy instruction: the slow path, with
        // the registers and counters synchronised through the fields.
        fuel++;
        this.ip = ip;
        this.sp = sp;
        this.lastSteps = stepsBase + (fuel0 - fuel);
        this.gasLeft = gasBase - (fuel0 - fuel);
        this.warm(mark - fuel);
        stop = this.#slowPath(op, limit);
        if (stop !== CONTINUE) return stop;
        reload = Reload.all;
      }
      if (reload !== Reload.none) {
        // Go on from the fields: registers and pages, and the counters unless they go on.
        if (reload === Reload.all) {
          gasBase = this.gasLeft;
          stepsBase = this.lastSteps;
          mark = fuel0 = fuel = fuelFor(gasBase, limit - stepsBase, this.chunk());
        }
        reload = Reload.none;
        ip = this.ip;
        sp = this.sp;
        code = this.code;
        stack = this.stack;
        stackLen = stack.length;
        if (this.compiled !== null) {
          this.runCompiled(stack, ip, sp, fuel, gasBase - (fuel0 - fuel));
          ip = regs[0]!;
          sp = regs[1]!;
          fuel = regs[2]!;
          stepsBase -= regs[4]!;
        }
        continue;
      }
      // Otherwise reached only by a `break` out of the switch: a stack underflow.
      fuel++;
      fault = new GuestFault('stack-underflow', underflowMessage(op! as Opcode, sp));
      break;
    }
    const used = fuel0 - fuel;
    this.lastSteps = stepsBase + used;
    this.gasLeft = gasBase - used;
    this.warm(mark - fuel);
    // On a fault ip and sp are those before the faulting instruction: nothing changed.
    this.ip = ip;
    this.sp = sp;
    if (fault !== null) {
      this.pendingFault = fault;
      return Stop.fault;
    }
    return stop as Stop;
  }

  /**
   * The heavy instruction being executed did not happen after all (a read with
   * nothing to read blocks, to be retried): the `gas` the slow path charged for it
   * goes back, and it is not counted as a step.
   */
  undoInstruction(gas: number): void {
    this.gasLeft += gas;
    this.lastSteps--;
  }

  /** The step clock: instructions the machine has completed, this run's so far included. */
  stepClock(): number {
    return this.store.kernel.steps + this.lastSteps;
  }

  /**
   * Everything the inline loop does not do, with registers and counters in the
   * fields: running off the code, bad opcodes, and heavy instructions (charged
   * their full cost first, so a handler that settles or leaves pays it). Returns
   * CONTINUE to resume the loop from the fields, or why it stopped.
   */
  #slowPath(op: number | undefined, limit: number): Stop | typeof CONTINUE {
    if (op === undefined) return Stop.offEnd;
    if (op < 0 || op >= N_OPS) {
      this.pendingFault = new GuestFault('bad-opcode', `code word ${op} at ${this.ip} is not an instruction`);
      return Stop.fault;
    }
    const cost = this.costOf(op);
    if (this.gasLeft < cost) return Stop.gas;
    if (this.lastSteps >= limit) return Stop.steps;
    const gasBefore = this.gasLeft;
    this.gasLeft -= cost;
    let next: Next;
    this.storeMayChange();
    this.slotsRead.length = 0;
    this.taken = 0;
    try {
      if (
        op === (14 satisfies typeof Op.CALL) ||
        op === (38 satisfies typeof Op.CALLW) ||
        op === (39 satisfies typeof Op.RETURN)
      ) {
        // A transfer the loop could not pay for from its fuel (see the loop's case).
        transfer(this, op);
        next = Next.switched;
      } else next = executeHeavy(this, op);
    } catch (e) {
      if (!(e instanceof GuestFault)) throw e;
      // The handler changed nothing but take its operands, which go back: the
      // registers and the stack describe this instruction as before it.
      restoreOperands(this);
      this.gasLeft = gasBefore;
      this.pendingFault = describeFault(this, op, e);
      return Stop.fault;
    }
    this.lastSteps++;
    // The instruction may have written the running code page (self-modifying code).
    const page = this.codePage;
    if (this.compiled !== null && page !== null && page.changes !== this.compiledAt) this.compile(page);
    if (next === Next.continue) return CONTINUE;
    return this.lastSteps < limit && this.enterActive() ? CONTINUE : Stop.switched;
  }
}
