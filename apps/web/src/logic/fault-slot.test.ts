// The fault's slot from the faulting instruction's operands (ISA operand kinds), checked
// against real faults of the interpreter.
import { assemble } from '@keyvm/assembler';
import { DomainSlot } from '@keyvm/core';
import { Machine } from '@keyvm/interpreter';
import { Op } from '@keyvm/isa';
import { describe, expect, it } from 'vitest';
import { faultSlot } from './fault-slot.js';

/** Run `source` to its fault; the slot derived as the worker derives it. */
function slotOfFault(source: string) {
  const m = Machine.boot(assemble(source));
  const r = m.run();
  expect(r.status).toBe('fault');
  const f = r.fault!;
  const code = m.page(m.domain(f.domain).slots[DomainSlot.CODE]!.target);
  const op = code?.kind === 'data' ? code.words[f.pc] : undefined;
  return { fault: f, ...faultSlot(op, m.stack(f.domain), f.message) };
}

describe('the slot of a fault', () => {
  it('is the slot operand of a one-slot instruction, named when special', () => {
    const r = slotOfFault('PUSH 4\nPUSH 1\nPUSH 2\nPAGEWRITE\nHALT');
    expect(r.fault.code).toBe('wrong-kind');
    expect(r.slot).toBe(1);
    expect(r.operands).toEqual([{ operand: 'slot', value: 1, name: 'MEMORY' }]);
  });

  it('is the one the message names when there are several', () => {
    const r = slotOfFault('PUSH 15\nPUSH 0\nPUSH 2\nPUSH 99\nCOPYKEY\nHALT');
    expect(r.fault.code).toBe('out-of-bounds');
    expect(r.slot).toBe(99);
    expect(r.operands.map((o) => `${o.operand}=${o.value}`)).toEqual(['dpage=15', 'spage=2']);
  });

  it('is none for an instruction without slot operands', () => {
    const r = slotOfFault('PUSH 7\nPUSH 0\nDIV\nHALT');
    expect(r.slot).toBeNull();
    expect(r.operands).toEqual([]);
  });

  it('is none when the stack is too short or the opcode unknown', () => {
    expect(faultSlot(Op.PAGEWRITE, [1], 'x')).toEqual({ slot: null, operands: [] });
    expect(faultSlot(undefined, [1, 2, 3], 'x')).toEqual({ slot: null, operands: [] });
    expect(faultSlot(9999, [1, 2, 3], 'x')).toEqual({ slot: null, operands: [] });
  });
});
