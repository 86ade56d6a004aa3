// Dispatch of the heavy instructions to their family handlers. Every opcode has a
// case here or inline in the CPU loop; a new opcode without one does not compile.
import { assertNever, INSTRUCTIONS, Op, type Opcode } from '@keyvm/isa';
import { Next } from '../cpu/constants.js';
import type { Cpu } from '../cpu.js';
import { forkOp, haltOp, yieldOp } from './control.js';
import { deviceOp } from './device.js';
import { attenuate, copyKey, keyNum, keyType, makeDomain, numKey, sever } from './key.js';
import { createMeter, meterKeeper, meterRead, meterSet } from './meter.js';
import { createPage, destroy, pageRead, pageSizeGet, pageSizeSet, pageType, pageWrite } from './page.js';

/** Execute one heavy instruction for the entered domain (registers in `cpu`). */
// Case labels are literal numbers (checked against the table by `satisfies`) so the
// switch compiles to a jump table rather than a chain of property loads.
export function executeHeavy(cpu: Cpu, op: number): Next {
  const code = op as Opcode;
  switch (code) {
    case 10 satisfies typeof Op.CREATEPAGE:
      createPage(cpu);
      return Next.continue;
    case 11 satisfies typeof Op.PAGETYPE:
      pageType(cpu);
      return Next.continue;
    case 12 satisfies typeof Op.PAGESIZESET:
      pageSizeSet(cpu);
      return Next.continue;
    case 13 satisfies typeof Op.PAGESIZEGET:
      pageSizeGet(cpu);
      return Next.continue;
    case 19 satisfies typeof Op.PAGEREAD:
      pageRead(cpu);
      return Next.continue;
    case 20 satisfies typeof Op.PAGEWRITE:
      pageWrite(cpu);
      return Next.continue;
    case 44 satisfies typeof Op.DESTROY:
      destroy(cpu);
      return Next.continue;
    case 15 satisfies typeof Op.COPYKEY:
      copyKey(cpu);
      return Next.continue;
    case 16 satisfies typeof Op.ATTENUATE:
      attenuate(cpu);
      return Next.continue;
    case 42 satisfies typeof Op.KEYTYPE:
      keyType(cpu);
      return Next.continue;
    case 43 satisfies typeof Op.SEVER:
      sever(cpu);
      return Next.continue;
    case 46 satisfies typeof Op.NUMKEY:
      numKey(cpu);
      return Next.continue;
    case 47 satisfies typeof Op.KEYNUM:
      keyNum(cpu);
      return Next.continue;
    case 45 satisfies typeof Op.MAKEDOMAIN:
      makeDomain(cpu);
      return Next.continue;
    case 48 satisfies typeof Op.CREATEMETER:
      createMeter(cpu);
      return Next.continue;
    case 49 satisfies typeof Op.METERREAD:
      meterRead(cpu);
      return Next.continue;
    case 50 satisfies typeof Op.METERSET:
      meterSet(cpu);
      return Next.continue;
    case 51 satisfies typeof Op.METERKEEPER:
      meterKeeper(cpu);
      return Next.continue;
    case 40 satisfies typeof Op.FORK:
      return forkOp(cpu);
    case 41 satisfies typeof Op.YIELD:
      return yieldOp(cpu);
    case 21 satisfies typeof Op.HALT:
      return haltOp(cpu);
    case 52 satisfies typeof Op.DEVICE:
      return deviceOp(cpu, INSTRUCTIONS[Op.DEVICE].gas);
    // Executed by the CPU loop itself (inline, or as transfers); never dispatched here.
    case 14 satisfies typeof Op.CALL:
    case 38 satisfies typeof Op.CALLW:
    case 39 satisfies typeof Op.RETURN:
    case 0 satisfies typeof Op.PUSH:
    case 1 satisfies typeof Op.ADD:
    case 2 satisfies typeof Op.SUB:
    case 3 satisfies typeof Op.MUL:
    case 4 satisfies typeof Op.DIV:
    case 5 satisfies typeof Op.MOD:
    case 6 satisfies typeof Op.AND:
    case 7 satisfies typeof Op.OR:
    case 8 satisfies typeof Op.XOR:
    case 9 satisfies typeof Op.NOT:
    case 17 satisfies typeof Op.JUMP:
    case 18 satisfies typeof Op.JUMPIF:
    case 22 satisfies typeof Op.NOP:
    case 23 satisfies typeof Op.DUP:
    case 24 satisfies typeof Op.DROP:
    case 25 satisfies typeof Op.SWAP:
    case 26 satisfies typeof Op.OVER:
    case 27 satisfies typeof Op.EQ:
    case 28 satisfies typeof Op.NE:
    case 29 satisfies typeof Op.LT:
    case 30 satisfies typeof Op.LE:
    case 31 satisfies typeof Op.GT:
    case 32 satisfies typeof Op.GE:
    case 33 satisfies typeof Op.ISZERO:
    case 34 satisfies typeof Op.NEG:
    case 35 satisfies typeof Op.SHL:
    case 36 satisfies typeof Op.SHR:
    case 37 satisfies typeof Op.SHRU:
    case 53 satisfies typeof Op.PICK:
    case 54 satisfies typeof Op.PUT:
      throw new Error(`internal: ${INSTRUCTIONS[code].name} reached the heavy dispatcher`);
    default:
      return assertNever(code, 'opcode');
  }
}
