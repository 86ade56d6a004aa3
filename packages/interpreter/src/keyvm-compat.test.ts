// KeyVM compatibility: programs written for the original KeyVM (its 21 instructions,
// its slot layout, page types and attenuation option) give KeyVM's results.
import { DomainSlot, KeyKind } from '@keyvm/core';
import { INSTRUCTIONS, Op } from '@keyvm/isa';
import { describe, expect, it } from 'vitest';
import { Machine } from './machine.js';
import { code, op } from './test-support.js';
import { asm, boot, expectFaultAtomic, pageWords, rootPage, runHalted } from './testing.test-helpers.js';

const run = (...items: (string | number)[]): number[] => runHalted(boot(items));

describe('KeyVM compatibility', () => {
  it('keeps its 21 instructions at its numbers', () => {
    const names = INSTRUCTIONS.filter((r) => r.keyvm).map((r) => [r.code, r.name]);
    expect(names).toEqual(
      [
        'PUSH ADD SUB MUL DIV MOD AND OR XOR NOT CREATEPAGE PAGETYPE PAGESIZESET PAGESIZEGET CALL',
        'COPYKEY ATTENUATE JUMP JUMPIF PAGEREAD PAGEWRITE',
      ]
        .join(' ')
        .split(' ')
        .map((n, i) => [i, n]),
    );
  });

  it('sub(5,3) leaves 2: the first pushed is the first argument', () => {
    expect(run(...op('SUB', 5, 3))).toEqual([2]);
    expect(run(...op('SUB', 3, 5))).toEqual([-2]);
  });

  it('DIV and MOD are floored; MOD takes the sign of the divisor', () => {
    const cases: [number, number, number, number][] = [
      [-7, 2, -4, 1],
      [7, -2, -4, -1],
      [-7, -2, 3, -1],
      [7, 2, 3, 1],
      [-1, 3, -1, 2],
      [1, -3, -1, -2],
      [0, -5, 0, 0],
    ];
    for (const [a, b, q, r] of cases) {
      expect(run(...op('DIV', a, b), ...op('MOD', a, b)), `${a} ${b}`).toEqual([q, r]);
      // KeyVM's Python: a // b and a % b.
      expect(Math.floor(a / b) | 0).toBe(q);
      expect((a - b * Math.floor(a / b)) | 0).toBe(r);
    }
  });

  it('DIV and MOD by zero fault', () => {
    expectFaultAtomic(boot(op('DIV', 5, 0)), 'division-by-zero');
    expectFaultAtomic(boot(op('MOD', 5, 0)), 'division-by-zero');
  });

  it('ADD, SUB and MUL wrap at 2^31 (KeyVM agrees wherever its ints fit)', () => {
    expect(run(...op('ADD', 2147483647, 1))).toEqual([-2147483648]);
    expect(run(...op('SUB', -2147483648, 1))).toEqual([2147483647]);
    expect(run(...op('MUL', 46341, 46341))).toEqual([(46341 * 46341) | 0]);
    expect(run(...op('MUL', 1 << 16, 1 << 15))).toEqual([-2147483648]);
    expect(run(...op('MUL', -46340, 46340))).toEqual([-2147395600]);
  });

  it('NOT is bitwise', () => {
    expect(run(...op('NOT', 0), ...op('NOT', -1), ...op('NOT', 0x0f0f0f0f))).toEqual([-1, 0, ~0x0f0f0f0f]);
  });

  it('AND OR XOR are bitwise', () => {
    expect(run(...op('AND', 6, 3), ...op('OR', 6, 3), ...op('XOR', 6, 3))).toEqual([2, 7, 5]);
  });

  it('JUMPIF jumps on any non-zero condition and falls through on zero', () => {
    for (const cond of [1, -1, 2, 0x7fffffff, -2147483648]) {
      expect(run(':t', 'PUSH', cond, 'JUMPIF', 'PUSH', 1, 't:', 'PUSH', 2)).toEqual([2]);
    }
    expect(run(':t', 'PUSH', 0, 'JUMPIF', 'PUSH', 1, 't:', 'PUSH', 2)).toEqual([1, 2]);
  });

  it('labels are word offsets (PUSH is two words)', () => {
    // PUSH 6 at 0, JUMP at 2, PUSH 1 at 3, target at 5 would be off by one if counted in instructions.
    expect(run('PUSH', 5, 'JUMP', 'PUSH', 1, 'PUSH', 2)).toEqual([2]);
  });

  it('a loop: sum of 1..10 with a label', () => {
    // acc n -- ; while n: acc += n; n -= 1
    const program = [
      'PUSH',
      0,
      'PUSH',
      10,
      'loop:',
      'DUP',
      'ISZERO',
      ':end',
      'SWAP',
      'JUMPIF',
      'SWAP',
      'OVER',
      'ADD',
      'SWAP',
      'PUSH',
      1,
      'SUB',
      ':loop',
      'JUMP',
      'end:',
      'DROP',
    ];
    expect(run(...program)).toEqual([55]);
  });

  it('CREATEPAGE / PAGETYPE / PAGESIZESET / PAGESIZEGET / PAGEREAD / PAGEWRITE on a data page', () => {
    const m = boot([
      ...op('CREATEPAGE', 15, 0, DomainSlot.MEMORY, 4),
      ...op('PAGETYPE', 15),
      ...op('PAGESIZEGET', 15),
      ...op('PAGEWRITE', -9, 15, 3),
      ...op('PAGESIZESET', 15, 8),
      ...op('PAGESIZEGET', 15),
      ...op('PAGEREAD', 15, 3),
      ...op('PAGEREAD', 15, 7),
      ...op('PAGESIZESET', 15, 2),
      ...op('PAGESIZEGET', 15),
    ]);
    expect(runHalted(m)).toEqual([0, 4, 8, -9, 0, 2]);
    expectFaultAtomic(boot([...op('CREATEPAGE', 15, 0, 1, 4), ...op('PAGEREAD', 15, 4)]), 'out-of-bounds');
  });

  it('CREATEPAGE / PAGETYPE / PAGESIZESET / PAGESIZEGET on a key page; keys, not words, live there', () => {
    const m = boot([
      ...op('CREATEPAGE', 15, 1, DomainSlot.MEMORY, 2),
      ...op('PAGETYPE', 15),
      ...op('PAGESIZEGET', 15),
      ...op('PAGESIZESET', 15, 5),
      ...op('PAGESIZEGET', 15),
      ...op('COPYKEY', 15, 4, DomainSlot.SELF, DomainSlot.DATA),
      ...op('COPYKEY', DomainSlot.SELF, 16, 15, 4),
      ...op('PAGEWRITE', 77, 16, 0),
      ...op('PAGEREAD', DomainSlot.DATA, 0),
    ]);
    expect(runHalted(m)).toEqual([1, 2, 5, 77]);
    expectFaultAtomic(boot([...op('CREATEPAGE', 15, 1, 1, 2), ...op('PAGEREAD', 15, 0)]), 'wrong-kind');
    expectFaultAtomic(boot([...op('CREATEPAGE', 15, 1, 1, 2), ...op('PAGEWRITE', 1, 15, 0)]), 'wrong-kind');
  });

  it('COPYKEY shares the page; ATTENUATE option 1 makes it read-only', () => {
    const program = [
      ...op('COPYKEY', DomainSlot.SELF, 15, DomainSlot.SELF, DomainSlot.DATA),
      ...op('ATTENUATE', DomainSlot.SELF, 16, DomainSlot.SELF, DomainSlot.DATA, 1),
      ...op('PAGEWRITE', 5, 15, 0),
      ...op('PAGEREAD', 16, 0),
      ...op('PAGETYPE', 16),
      ...op('PAGESIZEGET', 16),
    ];
    expect(run(...program)).toEqual([5, 0, 256]);
    const m = boot([...program, ...op('PAGEWRITE', 6, 16, 0)]);
    const r = expectFaultAtomic(m, 'rights-violation');
    expect(r.fault?.pc).toBe(asm(...program).length + 6);
    expect(m.stack()).toEqual([5, 0, 256, 6, 16, 0]); // the operands stay: nothing was popped
    expectFaultAtomic(boot([...program, ...op('PAGESIZESET', 16, 1)]), 'rights-violation');
    // Attenuating again never strengthens: still read-only.
    const again = [
      ...op('ATTENUATE', DomainSlot.SELF, 16, DomainSlot.SELF, DomainSlot.DATA, 1),
      ...op('ATTENUATE', DomainSlot.SELF, 17, DomainSlot.SELF, 16, 0),
      ...op('ATTENUATE', DomainSlot.SELF, 18, DomainSlot.SELF, 16, 1),
      ...op('KEYTYPE', 17),
      ...op('KEYTYPE', 18),
    ];
    expect(run(...again)).toEqual([3, 3]);
  });

  it('running off the end of the code halts', () => {
    const m = boot(op('ADD', 1, 2));
    expect(m.run()).toEqual({ status: 'halted', steps: 3, gasUsed: 3 });
    expect(m.domain(m.rootDomain)).toMatchObject({ stateName: 'halted', ip: 5, sp: 1 });
    expect(Machine.boot({ code: [] }).run()).toEqual({ status: 'halted', steps: 0, gasUsed: 0 });
  });

  it('runs KeyVM main.py’s example (adapted to 28-slot domains)', () => {
    // KeyVM: PUSH D_SELF, PUSH 10, PAGESIZESET, PUSH 9, PUSH 0, PUSH MEMORY, PUSH 42, PAGECREATE.
    // Our domain pages start with 28 slots and cannot shrink below the 12 special ones,
    // so the example grows its own page to 30 and creates the 42-word page in slot 29.
    const m = Machine.boot({
      code: code(
        'PUSH',
        DomainSlot.SELF,
        'PUSH',
        30,
        'PAGESIZESET',
        'PUSH',
        29,
        'PUSH',
        0,
        'PUSH',
        DomainSlot.MEMORY,
        'PUSH',
        42,
        'CREATEPAGE',
      ),
    });
    expect(m.run()).toMatchObject({ status: 'halted', steps: 8 });
    const root = m.domain(m.rootDomain);
    expect(root.slots.length).toBe(30);
    expect(root.slots[29]!.kind).toBe(KeyKind.page);
    expect(m.store.dataPage(root.slots[29]!, false).size).toBe(42);
    expect(m.stack()).toEqual([]);
    // The literal KeyVM program into RECV (slot 9), as KeyVM's slot 9 was free.
    const literal = Machine.boot({
      code: [Op.PUSH, 9, Op.PUSH, 0, Op.PUSH, 1, Op.PUSH, 42, Op.CREATEPAGE],
    });
    expect(literal.run().status).toBe('halted');
    expect(m.store.pageSize(rootPage(literal).slots[9]!)).toBe(42);
  });

  it('a KeyVM program that shrinks its domain page below the special slots faults', () => {
    expectFaultAtomic(boot(op('PAGESIZESET', DomainSlot.SELF, 10)), 'bad-argument');
  });
});

// KeyVM pops (and zeroes) an instruction's operands before it touches any page, so
// page instructions on the domain's own stack page (slot 7) see them gone. Compiled
// code must agree, and a fault must still leave the stack as it was.
describe.each([
  ['off', false],
  ['on', true],
  ['eager', 'eager'],
] as const)('operands leave the stack before a page is touched (JIT %s)', (_, jit) => {
  const runJit = (...items: (string | number)[]): number[] => runHalted(boot(items, { jit }));

  it('pageread(7, 0) reads the popped operand as 0', () => {
    expect(runJit(...op('PAGEREAD', DomainSlot.STACK, 0))).toEqual([0]);
  });

  it('pagewrite(99, 7, 2) then pageread(7, 2) leaves [99]', () => {
    expect(
      runJit(...op('PAGEWRITE', 99, DomainSlot.STACK, 2), ...op('PAGEREAD', DomainSlot.STACK, 2)),
    ).toEqual([99]);
  });

  it('a word written under the stack pointer is the stack', () => {
    // 1 2 3 on the stack; overwrite the 2 (word 1) through the stack page.
    expect(runJit('PUSH', 1, 'PUSH', 2, 'PUSH', 3, ...op('PAGEWRITE', 20, DomainSlot.STACK, 1))).toEqual([
      1, 20, 3,
    ]);
  });

  it('PAGESIZESET on the own stack page copies a stack without its operands', () => {
    const m = boot(
      ['PUSH', 5, ...op('PAGESIZESET', DomainSlot.STACK, 4), ...op('PAGESIZEGET', DomainSlot.STACK)],
      {
        jit,
      },
    );
    expect(runHalted(m)).toEqual([5, 4]);
    expect(pageWords(m, rootPage(m).slots[DomainSlot.STACK]!)).toEqual([5, 4, 0, 0]);
  });

  it('a faulting page instruction on the stack page leaves its operands', () => {
    const m = boot(['PUSH', 1, ...op('PAGEWRITE', 42, DomainSlot.STACK, 256)], { jit });
    expectFaultAtomic(m, 'out-of-bounds');
    expect(m.stack()).toEqual([1, 42, DomainSlot.STACK, 256]);
  });

  it('runs the original KeyVM countdown: 137 steps, stack [0]', () => {
    // pagewrite(10, 8, 0) loop: pagewrite(sub(pageread(8,0),1), 8, 0) jumpif(:loop, pageread(8,0)) pageread(8,0)
    const m = boot(
      [
        ...op('PAGEWRITE', 10, 8, 0),
        'loop:',
        ...op('PAGEREAD', 8, 0),
        ...op('SUB', 1),
        ...op('PAGEWRITE', 8, 0),
        ':loop',
        ...op('PAGEREAD', 8, 0),
        'JUMPIF',
        ...op('PAGEREAD', 8, 0),
      ],
      { jit },
    );
    const r = m.run();
    expect([r.status, r.steps, m.stack()]).toEqual(['halted', 137, [0]]);
  });
});
