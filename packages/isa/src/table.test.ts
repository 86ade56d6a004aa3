import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  gasFor,
  INSTRUCTIONS,
  instructionByCode,
  instructionByName,
  instructionLength,
  isOpcode,
  OPCODE_COUNT,
  OPERAND_KINDS,
  Op,
  operandPositions,
  renderIsaMarkdown,
  SIZE_GAS,
} from './index.js';

const KEYVM_21 = [
  'PUSH',
  'ADD',
  'SUB',
  'MUL',
  'DIV',
  'MOD',
  'AND',
  'OR',
  'XOR',
  'NOT',
  'CREATEPAGE',
  'PAGETYPE',
  'PAGESIZESET',
  'PAGESIZEGET',
  'CALL',
  'COPYKEY',
  'ATTENUATE',
  'JUMP',
  'JUMPIF',
  'PAGEREAD',
  'PAGEWRITE',
];

describe('instruction table', () => {
  it('keeps KeyVM’s 21 instructions at KeyVM’s numbers', () => {
    KEYVM_21.forEach((name, code) => {
      expect(instructionByCode(code)?.name).toBe(name);
      expect(instructionByCode(code)?.keyvm).toBe(true);
    });
    expect(INSTRUCTIONS.filter((r) => r.keyvm)).toHaveLength(21);
  });

  it('has KeyVM’s stack effects for the original instructions', () => {
    const effects: Record<string, [number, number]> = {
      PUSH: [0, 1],
      ADD: [2, 1],
      SUB: [2, 1],
      MUL: [2, 1],
      DIV: [2, 1],
      MOD: [2, 1],
      AND: [2, 1],
      OR: [2, 1],
      XOR: [2, 1],
      NOT: [1, 1],
      CREATEPAGE: [4, 0],
      PAGETYPE: [1, 1],
      PAGESIZESET: [2, 0],
      PAGESIZEGET: [1, 1],
      CALL: [2, 0],
      COPYKEY: [4, 0],
      ATTENUATE: [5, 0],
      JUMP: [1, 0],
      JUMPIF: [2, 0],
      PAGEREAD: [2, 1],
      PAGEWRITE: [3, 0],
    };
    for (const [name, [pops, pushes]] of Object.entries(effects)) {
      const r = instructionByName(name);
      expect([r?.pops, r?.pushes], name).toEqual([pops, pushes]);
    }
  });

  // KeyVM's vm.py pops with popn(n), which returns operands in push order, so the
  // tree form op(a, b, c) hands the instruction (a, b, c). The effect's input names,
  // deepest first, must name those operands in that order (issue 13: PAGEWRITE once
  // drifted to `slot index word`).
  it('names the operands of KeyVM’s 21 in KeyVM’s order, first pushed first', () => {
    const keyvmOperands: Record<(typeof KEYVM_21)[number], readonly string[]> = {
      PUSH: [],
      ADD: ['a', 'b'],
      SUB: ['a', 'b'],
      MUL: ['a', 'b'],
      DIV: ['a', 'b'],
      MOD: ['a', 'b'],
      AND: ['a', 'b'],
      OR: ['a', 'b'],
      XOR: ['a', 'b'],
      NOT: ['a'],
      CREATEPAGE: ['slot', 'type', 'meter', 'size'], // slot, type, meter slot, size
      PAGETYPE: ['slot'],
      PAGESIZESET: ['slot', 'size'],
      PAGESIZEGET: ['slot'],
      CALL: ['target', 'msg'], // target slot, message slot
      COPYKEY: ['dpage', 'didx', 'spage', 'sidx'], // target page slot, index, source page slot, index
      ATTENUATE: ['dpage', 'didx', 'spage', 'sidx', 'option'],
      JUMP: ['addr'],
      JUMPIF: ['addr', 'cond'],
      PAGEREAD: ['slot', 'index'], // page slot, index
      PAGEWRITE: ['word', 'slot', 'index'], // word, page slot, index
    };
    expect(Object.keys(keyvmOperands)).toEqual([...KEYVM_21]);
    for (const name of KEYVM_21) {
      const r = instructionByName(name)!;
      const inputs = r.effect.split('--')[0]!.trim().split(/\s+/).filter(Boolean);
      expect(inputs, name).toEqual(keyvmOperands[name]);
    }
  });

  it('is dense, unique and consistent', () => {
    INSTRUCTIONS.forEach((r, i) => {
      expect(r.code).toBe(i);
      expect(r.name).toMatch(/^[A-Z]+$/);
      expect(r.gas).toBeGreaterThan(0);
      expect(r.doc.length).toBeGreaterThan(0);
      // The stack effect's word counts agree with pops/pushes.
      const [before, after] = r.effect.split('--').map((s) => s.trim().split(/\s+/).filter(Boolean).length);
      expect([before, after], r.name).toEqual([r.pops, r.pushes]);
    });
    expect(new Set(INSTRUCTIONS.map((r) => r.name)).size).toBe(INSTRUCTIONS.length);
    expect(Object.isFrozen(INSTRUCTIONS)).toBe(true);
  });

  it('looks instructions up by code and by case-insensitive name', () => {
    expect(Op.PUSH).toBe(0);
    expect(Op.PAGEWRITE).toBe(20);
    expect(instructionByName('jumpif')?.code).toBe(Op.JUMPIF);
    expect(instructionByName('nope')).toBeUndefined();
    expect(instructionByCode(-1)).toBeUndefined();
    expect(instructionByCode(OPCODE_COUNT)).toBeUndefined();
    expect(isOpcode(1.5)).toBe(false);
    expect(instructionLength(Op.PUSH)).toBe(2);
    expect(instructionLength(Op.ADD)).toBe(1);
    expect(instructionLength(9999)).toBe(1);
  });
});

/** The input names of a stack effect, deepest first: `a b -- a+b` gives a, b. */
const effectInputs = (effect: string): string[] => effect.split('--')[0]!.trim().split(/\s+/).filter(Boolean);

describe('operand kinds', () => {
  it('has one operand a pop, named as the effect string names its inputs, in the same order', () => {
    for (const r of INSTRUCTIONS) {
      expect(r.operands, r.name).toHaveLength(r.pops);
      expect(
        r.operands.map((o) => o.name),
        r.name,
      ).toEqual(effectInputs(r.effect));
      for (const o of r.operands) expect(Object.keys(OPERAND_KINDS), `${r.name} ${o.name}`).toContain(o.kind);
      expect(Object.isFrozen(r.operands), r.name).toBe(true);
    }
  });

  it('gives KeyVM’s 21 the kinds its manual describes', () => {
    const kinds = (name: string) =>
      instructionByName(name)!
        .operands.map((o) => o.kind)
        .join(' ');
    expect(kinds('CREATEPAGE')).toBe('slot type slot size'); // slot, type, meter slot, size
    expect(kinds('PAGESIZESET')).toBe('slot size');
    expect(kinds('CALL')).toBe('slot slot'); // target, message
    expect(kinds('COPYKEY')).toBe('slot index slot index'); // target page slot, index, source page slot, index
    expect(kinds('ATTENUATE')).toBe('slot index slot index option');
    expect(kinds('JUMP')).toBe('addr');
    expect(kinds('JUMPIF')).toBe('addr word');
    expect(kinds('PAGEREAD')).toBe('slot index');
    expect(kinds('PAGEWRITE')).toBe('word slot index'); // KeyVM's order: word first
    for (const name of ['ADD', 'SUB', 'MUL', 'DIV', 'MOD', 'AND', 'OR', 'XOR', 'NOT'])
      expect(kinds(name), name).toMatch(/^word( word)?$/);
  });

  it('ties the kinds to the rest of the row', () => {
    for (const r of INSTRUCTIONS) {
      const kinds = r.operands.map((o) => o.kind);
      // A size operand is the top of the stack, which is what `gasFor` charges for.
      expect(kinds.includes('size'), r.name).toBe(r.sizeGas);
      if (r.sizeGas) expect(kinds.at(-1), r.name).toBe('size');
      // An index is an offset in the page a slot operand just before it names.
      kinds.forEach((k, i) => {
        if (k === 'index') expect(kinds[i - 1], r.name).toBe('slot');
      });
      // Only control transfers take code addresses; every page, key, meter and device
      // instruction names what it works on by a slot.
      if (kinds.includes('addr')) expect(r.family, r.name).toBe('control');
      if (['page', 'key', 'domain', 'meter', 'device'].includes(r.family))
        expect(kinds, r.name).toContain('slot');
      // Arithmetic and comparisons work on plain words.
      if (['arith', 'compare', 'stack'].includes(r.family))
        expect(new Set(kinds), r.name).toEqual(new Set(kinds.length ? ['word'] : []));
    }
    // Every kind is used somewhere.
    const used = new Set(INSTRUCTIONS.flatMap((r) => r.operands.map((o) => o.kind)));
    expect([...used].sort()).toEqual(Object.keys(OPERAND_KINDS).sort());
  });

  it('says where each named operand sits', () => {
    expect(operandPositions(INSTRUCTIONS[Op.PAGEWRITE])).toEqual({ word: 0, slot: 1, index: 2 });
    expect(operandPositions(INSTRUCTIONS[Op.CREATEPAGE])).toEqual({ slot: 0, type: 1, meter: 2, size: 3 });
    expect(operandPositions(INSTRUCTIONS[Op.HALT])).toEqual({});
    // The names are typed from the row, so a handler cannot index an operand the table lacks.
    // @ts-expect-error PAGEWRITE has no operand named `size`
    expect(operandPositions(INSTRUCTIONS[Op.PAGEWRITE]).size).toBeUndefined();
  });
});

describe('docs/isa.md', () => {
  it('is up to date with the table (run `pnpm gen:docs` to regenerate)', () => {
    const onDisk = readFileSync(new URL('../../../docs/isa.md', import.meta.url), 'utf8');
    expect(onDisk).toBe(renderIsaMarkdown());
  });
});

describe('gas for sizes', () => {
  it('CREATEPAGE and PAGESIZESET pay for data pages allocated outside the heap, data words beyond the free size and every key slot; nothing else does', () => {
    expect(INSTRUCTIONS.filter((r) => r.sizeGas).map((r) => r.name)).toEqual(['CREATEPAGE', 'PAGESIZESET']);
    const create = INSTRUCTIONS[Op.CREATEPAGE]!;
    const b = create.gas;
    const { free, wordsPerGas, gasPerSlot, heapWords, allocation } = SIZE_GAS;
    expect([undefined, -1, 0, 1, heapWords].map((n) => gasFor(create, n))).toEqual([b, b, b, b, b]);
    const a = b + allocation;
    expect([heapWords + 1, 64, 256, free].map((n) => gasFor(create, n))).toEqual([a, a, a, a]);
    expect(gasFor(create, free + 1)).toBe(a + 1);
    expect(gasFor(create, free + wordsPerGas)).toBe(a + 1);
    expect(gasFor(create, free + wordsPerGas + 1)).toBe(a + 2);
    expect(gasFor(create, 1 << 24)).toBe(a + ((1 << 24) - free) / wordsPerGas);
    expect(gasFor(create, (1 << 24) + 1)).toBe(b); // no page that large: it faults, unpaid
    // Key pages: every slot, up to the largest key page.
    expect([undefined, -1, 0].map((n) => gasFor(create, n, true))).toEqual([b, b, b]);
    expect(gasFor(create, 1, true)).toBe(b + gasPerSlot);
    expect(gasFor(create, 1 << 20, true)).toBe(b + (1 << 20) * gasPerSlot);
    expect(gasFor(create, (1 << 20) + 1, true)).toBe(b);
    expect(gasFor(INSTRUCTIONS[Op.ADD]!, 1 << 20)).toBe(1);
  });
});
