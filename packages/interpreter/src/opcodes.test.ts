// Every opcode: a passing case, and each of its fault cases checked for the fault
// result and for atomicity (the faulting instruction changed nothing).
import {
  DomainSlot,
  type FaultName,
  KeyKind,
  LIMITS,
  MEMORY_CHARGES,
  NULL_KEY,
  PageType,
  pageCharge,
  UNLIMITED,
} from '@keyvm/core';
import { gasFor, INSTRUCTIONS, type Mnemonic, Op, SIZE_GAS } from '@keyvm/isa';
import { describe, expect, it } from 'vitest';
import type { BootOptions, Machine } from './machine.js';
import { op } from './test-support.js';
import {
  addDomain,
  boot,
  expectFaultAtomic,
  hostDataPage,
  pageWords,
  rootPage,
  runHalted,
} from './testing.test-helpers.js';

type Items = (string | number)[];

interface PassCase {
  name: string;
  program: Items;
  stack: number[];
  options?: BootOptions;
  data?: number[];
  setup?: (m: Machine) => void;
  check?: (m: Machine) => void;
}

interface FaultCase {
  name: string;
  fault: FaultName;
  program: Items;
  options?: BootOptions;
  data?: number[];
  setup?: (m: Machine) => void;
}

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

// Root slots (BootSlot / DomainSlot): 0 TIME (use-only), 1 MEMORY (use-only),
// 2 SELF, 3 STATE, 4 IP, 5 CODE, 6 POINTER, 7 STACK, 8 DATA, 9 RECV, 10 KEEPER,
// 11 RESUME, 12 console, 13 input, 14 clock, 15..27 free.
const FREE = 15;

/** Host setup: a read-only key to the root's DATA page in `slot`. */
const readOnlyData =
  (slot: number) =>
  (m: Machine): void => {
    const root = rootPage(m);
    root.slots[slot] = m.store.attenuate(root.slots[DomainSlot.DATA]!, 1);
  };

/** Host setup: a child domain that halts at once, gate key in `slot`. */
const halter =
  (slot: number, stackSize = 16, stack: number[] = []) =>
  (m: Machine): void => {
    addDomain(m, ['HALT'], { slot, stackSize, stack });
  };

/** Host setup: a controlling key to a fresh child of the prime meter `which` in `slot`. */
const childMeter =
  (slot: number, which: 'time' | 'memory', amount: number) =>
  (m: Machine): void => {
    const prime = which === 'time' ? m.store.primeTime : m.store.primeMemory;
    rootPage(m).slots[slot] = m.store.createMeter(m.store.meterKey(prime, true), amount);
  };

/** Host setup: the root pays for pages from a memory meter holding `words`. */
const smallMemory = (words: number) => (m: Machine) => {
  rootPage(m).slots[DomainSlot.MEMORY] = m.store.createMeter(
    m.store.meterKey(m.store.primeMemory, true),
    words,
  );
};

const all =
  (...fs: ((m: Machine) => void)[]) =>
  (m: Machine): void => {
    for (const f of fs) f(m);
  };

// ---- passing cases ------------------------------------------------------------------

const PASS: Record<Mnemonic, PassCase[]> = {
  PUSH: [{ name: 'pushes its immediate', program: ['PUSH', 5, 'PUSH', -7], stack: [5, -7] }],
  ADD: [
    { name: '2+3', program: op('ADD', 2, 3), stack: [5] },
    { name: 'wraps at 2^31', program: op('ADD', INT_MAX, 1), stack: [INT_MIN] },
  ],
  SUB: [
    { name: 'sub(5,3)', program: op('SUB', 5, 3), stack: [2] },
    { name: 'wraps below -2^31', program: op('SUB', INT_MIN, 1), stack: [INT_MAX] },
  ],
  MUL: [
    { name: '6*7', program: op('MUL', 6, 7), stack: [42] },
    { name: 'low 32 bits', program: op('MUL', 65536, 65536), stack: [0] },
    { name: 'wraps', program: op('MUL', INT_MAX, 2), stack: [-2] },
  ],
  DIV: [
    { name: '7/2', program: op('DIV', 7, 2), stack: [3] },
    { name: 'floored -7/2', program: op('DIV', -7, 2), stack: [-4] },
    { name: 'floored 7/-2', program: op('DIV', 7, -2), stack: [-4] },
    { name: '-7/-2', program: op('DIV', -7, -2), stack: [3] },
    { name: '-2^31/-1 wraps', program: op('DIV', INT_MIN, -1), stack: [INT_MIN] },
  ],
  MOD: [
    { name: '7 mod 2', program: op('MOD', 7, 2), stack: [1] },
    { name: '-7 mod 2 takes the divisor sign', program: op('MOD', -7, 2), stack: [1] },
    { name: '7 mod -2', program: op('MOD', 7, -2), stack: [-1] },
    { name: '-7 mod -2', program: op('MOD', -7, -2), stack: [-1] },
    { name: '-6 mod 3 is 0', program: op('MOD', -6, 3), stack: [0] },
    { name: '-2^31 mod -1', program: op('MOD', INT_MIN, -1), stack: [0] },
  ],
  AND: [{ name: '12&10', program: op('AND', 12, 10), stack: [8] }],
  OR: [{ name: '12|10', program: op('OR', 12, 10), stack: [14] }],
  XOR: [{ name: '12^10', program: op('XOR', 12, 10), stack: [6] }],
  NOT: [
    { name: 'bitwise ~0', program: op('NOT', 0), stack: [-1] },
    { name: 'bitwise ~5', program: op('NOT', 5), stack: [-6] },
  ],
  CREATEPAGE: [
    {
      name: 'a data page',
      program: [...op('CREATEPAGE', FREE, 0, 1, 10), ...op('PAGESIZEGET', FREE), ...op('PAGETYPE', FREE)],
      stack: [10, 0],
    },
    {
      name: 'a key page of null keys',
      program: [...op('CREATEPAGE', FREE, 1, 1, 3), ...op('PAGETYPE', FREE), ...op('PAGESIZEGET', FREE)],
      stack: [1, 3],
      check: (m) => {
        const key = m.domain(m.rootDomain).slots[FREE]!;
        expect(key.kind).toBe(KeyKind.page);
        expect(m.store.keyPage(key, false).slots).toEqual([NULL_KEY, NULL_KEY, NULL_KEY]);
      },
    },
    {
      name: 'charges the memory meter',
      program: [...op('CREATEPAGE', 16, 0, FREE, 7), ...op('METERREAD', FREE)],
      stack: [3],
      setup: childMeter(FREE, 'memory', pageCharge(PageType.data, 7) + 3),
    },
  ],
  PAGETYPE: [
    { name: 'data page', program: op('PAGETYPE', DomainSlot.DATA), stack: [0] },
    { name: 'key page (SELF)', program: op('PAGETYPE', DomainSlot.SELF), stack: [1] },
    { name: 'through a read-only key', program: op('PAGETYPE', FREE), stack: [0], setup: readOnlyData(FREE) },
  ],
  PAGESIZESET: [
    {
      name: 'grows and shrinks, keeping words',
      program: [
        ...op('PAGESIZESET', DomainSlot.DATA, 3),
        ...op('PAGESIZEGET', DomainSlot.DATA),
        ...op('PAGESIZESET', DomainSlot.DATA, 5),
        ...op('PAGEREAD', DomainSlot.DATA, 2),
        ...op('PAGEREAD', DomainSlot.DATA, 4),
      ],
      data: [1, 2, 3, 4],
      stack: [3, 3, 0],
    },
    {
      name: 'refunds the memory meter on shrinking',
      program: [...op('CREATEPAGE', 16, 0, FREE, 8), ...op('PAGESIZESET', 16, 2), ...op('METERREAD', FREE)],
      stack: [2 + 6 * MEMORY_CHARGES.dataWord],
      setup: childMeter(FREE, 'memory', pageCharge(PageType.data, 8) + 2),
    },
    {
      name: 'resizing the running stack leaves the words above the stack pointer zero',
      program: ['PUSH', 9, 'PUSH', 9, 'PUSH', 9, ...op('PAGESIZESET', DomainSlot.STACK, 300)],
      stack: [9, 9, 9],
      check: (m) => {
        const words = pageWords(m, rootPage(m).slots[DomainSlot.STACK]!);
        expect(words.length).toBe(300);
        expect(words.slice(3).every((w) => w === 0)).toBe(true);
      },
    },
    {
      name: 'a key page grows with null slots',
      program: [
        ...op('PAGESIZESET', DomainSlot.SELF, 30),
        ...op('PAGESIZEGET', DomainSlot.SELF),
        ...op('KEYTYPE', 29),
      ],
      stack: [30, 0],
    },
  ],
  PAGESIZEGET: [
    { name: 'data page', program: op('PAGESIZEGET', DomainSlot.DATA), stack: [256] },
    { name: 'own domain page', program: op('PAGESIZEGET', DomainSlot.SELF), stack: [28] },
    { name: 'code page', program: op('PAGESIZEGET', DomainSlot.CODE), stack: [3] },
  ],
  CALL: [
    {
      name: 'a callee that halts resumes the caller with the null key',
      program: ['PUSH', 1, ...op('CALL', FREE, DomainSlot.DATA), ...op('KEYTYPE', DomainSlot.RECV)],
      stack: [1, 0],
      setup: halter(FREE),
      check: (m) => {
        const child = m.domains().find((d) => d.id !== m.rootDomain)!;
        expect(child.stateName).toBe('halted');
        expect(child.slots[DomainSlot.RECV]!.kind).toBe(KeyKind.page);
      },
    },
  ],
  COPYKEY: [
    {
      name: 'copies a key within the own page',
      program: [
        ...op('COPYKEY', DomainSlot.SELF, FREE, DomainSlot.SELF, DomainSlot.DATA),
        ...op('PAGEWRITE', 42, FREE, 0),
        ...op('PAGEREAD', DomainSlot.DATA, 0),
        ...op('KEYTYPE', FREE),
      ],
      stack: [42, 2],
    },
    {
      name: 'copies between key pages',
      program: [
        ...op('CREATEPAGE', FREE, 1, 1, 4),
        ...op('COPYKEY', FREE, 3, DomainSlot.SELF, 12),
        ...op('COPYKEY', DomainSlot.SELF, 16, FREE, 3),
        ...op('KEYTYPE', 16),
      ],
      stack: [7],
    },
  ],
  ATTENUATE: [
    {
      name: 'option 1 makes a page key read-only',
      program: [
        ...op('ATTENUATE', DomainSlot.SELF, FREE, DomainSlot.SELF, DomainSlot.DATA, 1),
        ...op('KEYTYPE', FREE),
        ...op('PAGEREAD', FREE, 0),
      ],
      data: [9],
      stack: [3, 9],
    },
    {
      name: 'option 0 copies',
      program: [
        ...op('ATTENUATE', DomainSlot.SELF, FREE, DomainSlot.SELF, DomainSlot.DATA, 0),
        ...op('KEYTYPE', FREE),
      ],
      stack: [2],
    },
    {
      name: 'option n >= 2 on a meter makes a use-only child with 1/n',
      program: [
        ...op('ATTENUATE', DomainSlot.SELF, 16, DomainSlot.SELF, FREE, 4),
        ...op('METERREAD', 16),
        ...op('METERREAD', FREE),
      ],
      stack: [25, 100],
      setup: childMeter(FREE, 'time', 100),
      check: (m) => {
        const share = rootPage(m).slots[16]!;
        expect(share).toMatchObject({ kind: KeyKind.meter, value: 0 });
        expect(m.store.object(share.target)).toMatchObject({
          parent: { id: rootPage(m).slots[FREE]!.target },
        });
      },
    },
  ],
  JUMP: [
    {
      name: 'continues at the address',
      program: [':over', 'JUMP', 'PUSH', 1, 'over:', 'PUSH', 2],
      stack: [2],
    },
    { name: 'to the end halts', program: ['PUSH', 1, 'PUSH', 5, 'JUMP'], stack: [1] },
  ],
  JUMPIF: [
    { name: 'jumps on 1', program: [':t', 'PUSH', 1, 'JUMPIF', 'PUSH', 7, 't:', 'PUSH', 8], stack: [8] },
    { name: 'jumps on -1', program: [':t', 'PUSH', -1, 'JUMPIF', 'PUSH', 7, 't:', 'PUSH', 8], stack: [8] },
    {
      name: 'falls through on 0',
      program: [':t', 'PUSH', 0, 'JUMPIF', 'PUSH', 7, 't:', 'PUSH', 8],
      stack: [7, 8],
    },
    {
      name: 'falls through on 0 even with a target outside the code',
      program: ['PUSH', 99, 'PUSH', 0, 'JUMPIF', 'PUSH', 7],
      stack: [7],
    },
  ],
  PAGEREAD: [
    { name: 'reads a word', program: op('PAGEREAD', DomainSlot.DATA, 2), data: [7, 8, 9], stack: [9] },
    { name: 'reads the code', program: op('PAGEREAD', DomainSlot.CODE, 1), stack: [DomainSlot.CODE] },
  ],
  PAGEWRITE: [
    {
      name: 'writes a word',
      program: [...op('PAGEWRITE', 99, DomainSlot.DATA, 1), ...op('PAGEREAD', DomainSlot.DATA, 1)],
      stack: [99],
      check: (m) => expect(pageWords(m, rootPage(m).slots[DomainSlot.DATA]!).slice(0, 3)).toEqual([0, 99, 0]),
    },
    // Code is a data page: a write through the CODE key changes the very next
    // instruction fetched (no stale decoded or compiled copy may survive it).
    {
      name: 'into the own code page: the next fetch sees it',
      program: [...op('PAGEWRITE', Op.NOT, DomainSlot.CODE, 9), 'PUSH', 1, 'NOP'],
      stack: [-2],
    },
    {
      name: 'into the own code page: a PUSH turned into an ADD',
      // The old PUSH's immediate (0) is now a PUSH whose immediate is the NOP word.
      program: ['PUSH', 20, 'PUSH', 22, ...op('PAGEWRITE', Op.ADD, DomainSlot.CODE, 11), 'PUSH', 0, 'NOP'],
      stack: [42, Op.NOP],
    },
  ],
  HALT: [
    {
      name: 'stops the domain',
      program: ['PUSH', 1, 'HALT', 'PUSH', 2],
      stack: [1],
      check: (m) => {
        expect(m.domain(m.rootDomain)).toMatchObject({ stateName: 'halted', ip: 3 });
      },
    },
  ],
  NOP: [{ name: 'does nothing', program: ['PUSH', 1, 'NOP'], stack: [1] }],
  DUP: [{ name: 'a -- a a', program: op('DUP', 4), stack: [4, 4] }],
  DROP: [{ name: 'a --', program: op('DROP', 4, 5), stack: [4] }],
  SWAP: [{ name: 'a b -- b a', program: op('SWAP', 4, 5), stack: [5, 4] }],
  OVER: [{ name: 'a b -- a b a', program: op('OVER', 4, 5), stack: [4, 5, 4] }],
  PICK: [
    { name: 'PICK 0 is DUP', program: ['PUSH', 4, 'PICK', 0], stack: [4, 4] },
    { name: 'a b c -- a b c a', program: [...op('NOP', 4, 5, 6), 'PICK', 2], stack: [4, 5, 6, 4] },
  ],
  PUT: [
    { name: 'PUT 0 is NIP', program: [...op('NOP', 4, 5), 'PUT', 0], stack: [5] },
    { name: 'a b c d -- d b c', program: [...op('NOP', 4, 5, 6, 7), 'PUT', 2], stack: [7, 5, 6] },
  ],
  EQ: [
    { name: 'equal', program: op('EQ', 3, 3), stack: [1] },
    { name: 'different', program: op('EQ', 3, 4), stack: [0] },
  ],
  NE: [
    { name: 'equal', program: op('NE', 3, 3), stack: [0] },
    { name: 'different', program: op('NE', 3, 4), stack: [1] },
  ],
  LT: [
    { name: 'signed', program: op('LT', -1, 0), stack: [1] },
    { name: 'not less', program: op('LT', 2, 2), stack: [0] },
  ],
  LE: [
    { name: 'equal', program: op('LE', 2, 2), stack: [1] },
    { name: 'greater', program: op('LE', 3, 2), stack: [0] },
  ],
  GT: [
    { name: 'signed', program: op('GT', 0, INT_MIN), stack: [1] },
    { name: 'not greater', program: op('GT', 2, 2), stack: [0] },
  ],
  GE: [
    { name: 'equal', program: op('GE', 2, 2), stack: [1] },
    { name: 'less', program: op('GE', -3, 2), stack: [0] },
  ],
  ISZERO: [
    { name: 'zero', program: op('ISZERO', 0), stack: [1] },
    { name: 'non-zero', program: op('ISZERO', -5), stack: [0] },
  ],
  NEG: [
    { name: 'negates', program: op('NEG', 5), stack: [-5] },
    { name: 'wraps -2^31', program: op('NEG', INT_MIN), stack: [INT_MIN] },
  ],
  SHL: [
    { name: 'shifts', program: op('SHL', 3, 4), stack: [48] },
    { name: 'by n mod 32', program: op('SHL', 1, 33), stack: [2] },
  ],
  SHR: [{ name: 'keeps the sign', program: op('SHR', -8, 1), stack: [-4] }],
  SHRU: [
    { name: 'logical', program: op('SHRU', -1, 28), stack: [15] },
    { name: 'by 0 stays a signed word', program: op('SHRU', -1, 0), stack: [-1] },
  ],
  CALLW: [
    {
      name: 'passes a word both ways',
      // The callee adds 1 to the word it got and returns it: RETURN 11 9 (w+1).
      program: op('CALLW', FREE, DomainSlot.DATA, 41),
      stack: [42],
      setup: (m) =>
        addDomain(m, ['PUSH', 1, 'ADD', 'PUSH', 11, 'SWAP', 'PUSH', 9, 'SWAP', 'RETURN'], { slot: FREE }),
    },
  ],
  RETURN: [
    {
      name: 'hands back a key and a word; the returner becomes available',
      program: [...op('CALLW', FREE, DomainSlot.DATA, 0), ...op('KEYTYPE', DomainSlot.RECV)],
      stack: [5, 7],
      setup: (m) => {
        const child = addDomain(m, ['DROP', ...op('RETURN', 11, 12, 5), 'PUSH', 1], { slot: FREE });
        child.slots[12] = rootPage(m).slots[12]!;
      },
      check: (m) => {
        const child = m.domains().find((d) => d.id !== m.rootDomain)!;
        expect(child).toMatchObject({ stateName: 'available', ip: 8 });
      },
    },
  ],
  FORK: [
    {
      name: 'starts a domain without waiting; it runs after the forker',
      program: [...op('FORK', FREE, DomainSlot.DATA), ...op('PAGEREAD', DomainSlot.DATA, 0)],
      stack: [0],
      setup: (m) => addDomain(m, op('PAGEWRITE', 7, DomainSlot.RECV, 0), { slot: FREE }),
      check: (m) => {
        expect(pageWords(m, rootPage(m).slots[DomainSlot.DATA]!)[0]).toBe(7);
        expect(m.domains().map((d) => d.stateName)).toEqual(['halted', 'halted']);
      },
    },
  ],
  YIELD: [{ name: 'alone, continues', program: ['PUSH', 1, 'YIELD', 'PUSH', 2], stack: [1, 2] }],
  KEYTYPE: [
    {
      name: 'every kind',
      program: [
        ...op('KEYTYPE', FREE + 1),
        ...op('KEYTYPE', DomainSlot.STATE),
        ...op('KEYTYPE', DomainSlot.DATA),
        ...op('KEYTYPE', FREE),
        ...op('KEYTYPE', FREE + 2),
        ...op('KEYTYPE', FREE + 3),
        ...op('KEYTYPE', DomainSlot.TIME),
        ...op('KEYTYPE', 12),
      ],
      stack: [0, 1, 2, 3, 4, 5, 6, 7],
      setup: all(readOnlyData(FREE), halter(FREE + 2), (m) => {
        rootPage(m).slots[FREE + 3] = m.store.resumeKey(m.store.object(m.store.nextId - 1) as never);
      }),
    },
    {
      name: 'a void key reads as 0',
      program: [
        ...op('COPYKEY', DomainSlot.SELF, FREE, DomainSlot.SELF, DomainSlot.DATA),
        ...op('SEVER', DomainSlot.DATA),
        ...op('KEYTYPE', FREE),
      ],
      stack: [0],
    },
  ],
  SEVER: [
    {
      name: 'voids every other key; the slot gets a fresh one',
      program: [
        ...op('PAGEWRITE', 5, DomainSlot.DATA, 0),
        ...op('COPYKEY', DomainSlot.SELF, FREE, DomainSlot.SELF, DomainSlot.DATA),
        ...op('SEVER', DomainSlot.DATA),
        ...op('KEYTYPE', FREE),
        ...op('KEYTYPE', DomainSlot.DATA),
        ...op('PAGEREAD', DomainSlot.DATA, 0),
      ],
      stack: [0, 2, 5],
    },
    {
      name: 'a controlling meter key',
      program: [
        ...op('ATTENUATE', DomainSlot.SELF, 16, DomainSlot.SELF, FREE, 1),
        ...op('SEVER', FREE),
        ...op('KEYTYPE', 16),
        ...op('METERREAD', FREE),
      ],
      stack: [0, 50],
      setup: childMeter(FREE, 'time', 50),
    },
  ],
  DESTROY: [
    {
      name: 'frees a page and refunds its memory',
      program: [
        ...op('CREATEPAGE', 16, 0, FREE, 6),
        ...op('COPYKEY', DomainSlot.SELF, 17, DomainSlot.SELF, 16),
        ...op('DESTROY', 16),
        ...op('METERREAD', FREE),
        ...op('KEYTYPE', 17),
      ],
      // All comes back but the id's charge.
      stack: [pageCharge(PageType.data, 6) + 4 - MEMORY_CHARGES.id, 0],
      setup: childMeter(FREE, 'memory', pageCharge(PageType.data, 6) + 4),
    },
  ],
  MAKEDOMAIN: [
    {
      name: 'builds a domain by guest instructions and calls it',
      program: [
        ...op('CREATEPAGE', 15, 1, 1, 28),
        ...op('CREATEPAGE', 16, 0, 1, 3),
        ...op('PAGEWRITE', Op.PUSH, 16, 0),
        ...op('PAGEWRITE', 7, 16, 1),
        ...op('PAGEWRITE', Op.HALT, 16, 2),
        ...op('CREATEPAGE', 17, 0, 1, 4),
        ...op('COPYKEY', 15, DomainSlot.TIME, DomainSlot.SELF, DomainSlot.TIME),
        ...op('COPYKEY', 15, DomainSlot.MEMORY, DomainSlot.SELF, DomainSlot.MEMORY),
        ...op('COPYKEY', 15, DomainSlot.CODE, DomainSlot.SELF, 16),
        ...op('COPYKEY', 15, DomainSlot.STACK, DomainSlot.SELF, 17),
        ...op('MAKEDOMAIN', 18, 15),
        ...op('KEYTYPE', 18),
        ...op('CALL', 18, 0),
        ...op('PAGEREAD', 17, 0),
      ],
      stack: [4, 7],
      check: (m) => {
        const child = m.domains().find((d) => d.id !== m.rootDomain)!;
        expect(child).toMatchObject({ stateName: 'halted', ip: 3, sp: 1 });
        expect(child.slots[DomainSlot.SELF]).toMatchObject({ kind: KeyKind.page, target: child.id });
      },
    },
  ],
  NUMKEY: [
    {
      name: 'puts a number key',
      program: [...op('NUMKEY', FREE, -5), ...op('KEYTYPE', FREE), ...op('KEYNUM', FREE)],
      stack: [1, -5],
    },
  ],
  KEYNUM: [
    { name: 'STATE reads running', program: op('KEYNUM', DomainSlot.STATE), stack: [1] },
    { name: 'IP reads this instruction', program: ['NOP', ...op('KEYNUM', DomainSlot.IP)], stack: [3] },
  ],
  CREATEMETER: [
    {
      name: 'a child of the prime time meter',
      program: [
        ...op('CREATEMETER', FREE, DomainSlot.TIME, 100),
        ...op('METERREAD', FREE),
        ...op('KEYTYPE', FREE),
      ],
      stack: [100, 6],
    },
    {
      name: '-1 is unlimited',
      program: [...op('CREATEMETER', FREE, DomainSlot.MEMORY, -1), ...op('METERREAD', FREE)],
      stack: [-1],
    },
    {
      name: `the domain's MEMORY meter pays ${LIMITS.meterWords} words for it`,
      program: [...op('CREATEMETER', FREE, DomainSlot.TIME, 7), ...op('METERREAD', DomainSlot.MEMORY)],
      stack: [LIMITS.meterWords + 1],
      setup: smallMemory(2 * LIMITS.meterWords + 1),
    },
  ],
  METERREAD: [
    { name: 'unlimited reads -1', program: op('METERREAD', DomainSlot.TIME), stack: [-1] },
    {
      name: 'what is left after this instruction is paid',
      program: ['NOP', ...op('METERREAD', DomainSlot.TIME)],
      options: { time: 100 },
      stack: [100 - 2 - INSTRUCTIONS[Op.METERREAD].gas],
    },
  ],
  METERSET: [
    {
      name: 'sets a controlled meter',
      program: [
        ...op('METERSET', FREE, 5),
        ...op('METERREAD', FREE),
        ...op('METERSET', FREE, -1),
        ...op('METERREAD', FREE),
      ],
      stack: [5, -1],
      setup: childMeter(FREE, 'time', 100),
    },
  ],
  METERKEEPER: [
    {
      name: 'sets and clears a keeper',
      program: op('METERKEEPER', FREE, FREE + 1),
      stack: [],
      setup: all(childMeter(FREE, 'time', 100), halter(FREE + 1)),
      check: (m) => {
        const meter = m.store.object(rootPage(m).slots[FREE]!.target) as { keeper: { kind: number } };
        expect(meter.keeper.kind).toBe(KeyKind.domain);
      },
    },
  ],
  DEVICE: [
    {
      name: 'console putChar and putNumber',
      program: [...op('DEVICE', 12, 0, 72), ...op('DEVICE', 12, 1, -12)],
      stack: [0, 0],
      check: (m) => expect(m.output).toBe('H-12'),
    },
    { name: 'input pending', program: op('DEVICE', 13, 1, 0), stack: [0] },
    { name: 'clock reads the step count', program: ['NOP', 'NOP', ...op('DEVICE', 14, 0, 0)], stack: [5] },
  ],
};

// ---- fault cases ----------------------------------------------------------------------

/** Stack underflow for every instruction that pops: one word short. */
const underflows: [Mnemonic, FaultCase][] = INSTRUCTIONS.filter((r) => r.pops > 0).map((r) => [
  r.name,
  {
    name: `with ${r.pops - 1} of ${r.pops} words`,
    fault: 'stack-underflow',
    program: [
      ...Array.from({ length: r.pops - 1 }, () => ['PUSH', 1]).flat(),
      r.name,
      ...Array.from({ length: r.immediates }, () => 0),
    ],
  },
]);

const emptyUnderflows: [Mnemonic, FaultCase][] = INSTRUCTIONS.filter((r) => r.pops > 1).map((r) => [
  r.name,
  {
    name: 'on an empty stack',
    fault: 'stack-underflow',
    program: [r.name, ...Array.from({ length: r.immediates }, () => 0)],
  },
]);

const FAULTS: Partial<Record<Mnemonic, FaultCase[]>> = {
  JUMP: [
    { name: 'past the end of the code', fault: 'bad-jump', program: ['PUSH', 1, 'PUSH', 99, 'JUMP'] },
    { name: 'to a negative address', fault: 'bad-jump', program: ['PUSH', 1, 'PUSH', -1, 'JUMP', 'PUSH', 2] },
  ],
  JUMPIF: [
    { name: 'taken past the end', fault: 'bad-jump', program: ['PUSH', 99, 'PUSH', 1, 'JUMPIF', 'PUSH', 7] },
    { name: 'taken to a negative address', fault: 'bad-jump', program: ['PUSH', -2, 'PUSH', 5, 'JUMPIF'] },
  ],
  PUSH: [
    {
      name: 'onto a full stack',
      fault: 'stack-overflow',
      program: ['PUSH', 1, 'PUSH', 2],
      options: { stackSize: 1 },
    },
    { name: 'without an immediate', fault: 'bad-opcode', program: ['PUSH', 1, 'PUSH'] },
  ],
  DUP: [
    { name: 'onto a full stack', fault: 'stack-overflow', program: op('DUP', 1), options: { stackSize: 1 } },
  ],
  PICK: [
    {
      name: 'onto a full stack',
      fault: 'stack-overflow',
      program: [...op('NOP', 1), 'PICK', 0],
      options: { stackSize: 1 },
    },
    { name: 'deeper than the stack', fault: 'stack-underflow', program: [...op('NOP', 1, 2), 'PICK', 2] },
    { name: 'a negative depth', fault: 'stack-underflow', program: [...op('NOP', 1, 2), 'PICK', -1] },
    { name: 'without an immediate', fault: 'bad-opcode', program: ['PUSH', 1, 'PICK'] },
  ],
  PUT: [
    { name: 'deeper than the stack', fault: 'stack-underflow', program: [...op('NOP', 1, 2, 3), 'PUT', 2] },
    { name: 'a negative depth', fault: 'stack-underflow', program: [...op('NOP', 1, 2), 'PUT', -1] },
    { name: 'without an immediate', fault: 'bad-opcode', program: ['PUSH', 1, 'PUSH', 2, 'PUT'] },
  ],
  OVER: [
    {
      name: 'onto a full stack',
      fault: 'stack-overflow',
      program: op('OVER', 1, 2),
      options: { stackSize: 2 },
    },
  ],
  DIV: [
    { name: 'by zero', fault: 'division-by-zero', program: op('DIV', 7, 0) },
    { name: 'zero by zero', fault: 'division-by-zero', program: op('DIV', 0, 0) },
  ],
  MOD: [{ name: 'by zero', fault: 'division-by-zero', program: op('MOD', -7, 0) }],
  CREATEPAGE: [
    { name: 'slot out of bounds', fault: 'out-of-bounds', program: op('CREATEPAGE', 28, 0, 1, 5) },
    { name: 'negative slot', fault: 'out-of-bounds', program: op('CREATEPAGE', -1, 0, 1, 5) },
    { name: 'into the STATE slot', fault: 'rights-violation', program: op('CREATEPAGE', 3, 0, 1, 5) },
    { name: 'into the own IP slot', fault: 'rights-violation', program: op('CREATEPAGE', 4, 0, 1, 5) },
    { name: 'page type 2', fault: 'bad-argument', program: op('CREATEPAGE', FREE, 2, 1, 5) },
    { name: 'negative size', fault: 'bad-argument', program: op('CREATEPAGE', FREE, 0, 1, -1) },
    { name: 'too big', fault: 'bad-argument', program: op('CREATEPAGE', FREE, 0, 1, (1 << 24) + 1) },
    { name: 'paid by a time meter', fault: 'wrong-kind', program: op('CREATEPAGE', FREE, 0, 0, 5) },
    { name: 'paid by a page key', fault: 'wrong-kind', program: op('CREATEPAGE', FREE, 0, 8, 5) },
    { name: 'paid by a null key', fault: 'null-key', program: op('CREATEPAGE', FREE, 0, 16, 5) },
    {
      name: 'more than the memory meter holds',
      fault: 'out-of-memory',
      program: [...op('CREATEPAGE', FREE, 0, 1, 3), ...op('CREATEPAGE', 16, 1, 1, 3)],
      setup: smallMemory(pageCharge(PageType.data, 3) + pageCharge(PageType.keys, 3) - 1),
    },
  ],
  PAGETYPE: [
    { name: 'null key', fault: 'null-key', program: op('PAGETYPE', FREE) },
    { name: 'number key', fault: 'wrong-kind', program: op('PAGETYPE', DomainSlot.STATE) },
    { name: 'meter key', fault: 'wrong-kind', program: op('PAGETYPE', DomainSlot.TIME) },
    { name: 'slot out of bounds', fault: 'out-of-bounds', program: op('PAGETYPE', 28) },
  ],
  PAGESIZESET: [
    {
      name: 'through a read-only key',
      fault: 'rights-violation',
      program: op('PAGESIZESET', FREE, 3),
      setup: readOnlyData(FREE),
    },
    { name: 'negative size', fault: 'bad-argument', program: op('PAGESIZESET', DomainSlot.DATA, -1) },
    {
      name: 'too big',
      fault: 'bad-argument',
      program: op('PAGESIZESET', DomainSlot.DATA, (1 << 24) + 1),
    },
    {
      name: 'a domain page below the special slots',
      fault: 'bad-argument',
      program: op('PAGESIZESET', DomainSlot.SELF, 11),
    },
    { name: 'null key', fault: 'null-key', program: op('PAGESIZESET', FREE, 3) },
    { name: 'number key', fault: 'wrong-kind', program: op('PAGESIZESET', DomainSlot.STATE, 3) },
    { name: 'slot out of bounds', fault: 'out-of-bounds', program: op('PAGESIZESET', 99, 3) },
    {
      name: 'growth beyond the memory meter',
      fault: 'out-of-memory',
      program: [...op('CREATEPAGE', FREE, 0, 1, 3), ...op('PAGESIZESET', FREE, 6)],
      setup: smallMemory(pageCharge(PageType.data, 3) + 2),
    },
  ],
  PAGESIZEGET: [
    { name: 'null key', fault: 'null-key', program: op('PAGESIZEGET', FREE) },
    { name: 'device key', fault: 'wrong-kind', program: op('PAGESIZEGET', 12) },
    { name: 'slot out of bounds', fault: 'out-of-bounds', program: op('PAGESIZEGET', 99) },
  ],
  CALL: [
    { name: 'a page key', fault: 'wrong-kind', program: op('CALL', DomainSlot.DATA, 0) },
    { name: 'a null key', fault: 'null-key', program: op('CALL', FREE, 0) },
    { name: 'target slot out of bounds', fault: 'out-of-bounds', program: op('CALL', -1, 0) },
    {
      name: 'message slot out of bounds',
      fault: 'out-of-bounds',
      program: op('CALL', FREE, 28),
      setup: halter(FREE),
    },
    {
      name: 'a halted domain is busy',
      fault: 'busy',
      program: [...op('CALL', FREE, 0), ...op('CALL', FREE, 0)],
      setup: halter(FREE),
    },
    {
      name: 'itself is busy',
      fault: 'busy',
      program: op('CALL', FREE, 0),
      setup: (m) => {
        rootPage(m).slots[FREE] = m.store.domainKey(rootPage(m));
      },
    },
  ],
  CALLW: [
    {
      name: 'a halted domain is busy',
      fault: 'busy',
      program: [...op('CALLW', FREE, 0, 1), ...op('CALLW', FREE, 0, 2)],
      setup: halter(FREE),
    },
    {
      name: 'the callee’s stack is full',
      fault: 'stack-overflow',
      program: op('CALLW', FREE, 0, 9),
      setup: halter(FREE, 1, [5]),
    },
    { name: 'a null key', fault: 'null-key', program: op('CALLW', FREE, 0, 1) },
    { name: 'a meter key', fault: 'wrong-kind', program: op('CALLW', DomainSlot.TIME, 0, 1) },
  ],
  RETURN: [
    { name: 'no resume key', fault: 'null-key', program: op('RETURN', DomainSlot.RESUME, 0, 0) },
    { name: 'a page key', fault: 'wrong-kind', program: op('RETURN', DomainSlot.DATA, 0, 0) },
    {
      name: 'key slot out of bounds',
      fault: 'out-of-bounds',
      program: op('RETURN', DomainSlot.RESUME, 28, 0),
    },
    {
      name: 'to a domain that is not waiting',
      fault: 'busy',
      program: op('RETURN', FREE, 0, 0),
      setup: (m) => {
        rootPage(m).slots[FREE] = m.store.resumeKey(rootPage(m));
      },
    },
  ],
  COPYKEY: [
    {
      name: 'source index out of bounds',
      fault: 'out-of-bounds',
      program: op('COPYKEY', DomainSlot.SELF, FREE, DomainSlot.SELF, 99),
    },
    {
      name: 'destination index out of bounds',
      fault: 'out-of-bounds',
      program: op('COPYKEY', DomainSlot.SELF, 28, DomainSlot.SELF, 8),
    },
    {
      name: 'page slot out of bounds',
      fault: 'out-of-bounds',
      program: op('COPYKEY', DomainSlot.SELF, FREE, 99, 8),
    },
    {
      name: 'into the STATE slot',
      fault: 'rights-violation',
      program: op('COPYKEY', DomainSlot.SELF, DomainSlot.STATE, DomainSlot.SELF, 8),
    },
    {
      name: 'into the own IP slot',
      fault: 'rights-violation',
      program: op('COPYKEY', DomainSlot.SELF, DomainSlot.IP, DomainSlot.SELF, 8),
    },
    {
      name: 'into the own POINTER slot',
      fault: 'rights-violation',
      program: op('COPYKEY', DomainSlot.SELF, DomainSlot.POINTER, DomainSlot.SELF, 8),
    },
    {
      name: 'into a page through a read-only key',
      fault: 'rights-violation',
      program: [
        ...op('ATTENUATE', DomainSlot.SELF, 16, DomainSlot.SELF, DomainSlot.SELF, 1),
        ...op('COPYKEY', 16, FREE, DomainSlot.SELF, 8),
      ],
    },
    { name: 'destination page null', fault: 'null-key', program: op('COPYKEY', FREE, 0, DomainSlot.SELF, 8) },
    { name: 'source page null', fault: 'null-key', program: op('COPYKEY', DomainSlot.SELF, 16, FREE, 0) },
    {
      name: 'source page is a data page',
      fault: 'wrong-kind',
      program: op('COPYKEY', DomainSlot.SELF, 16, DomainSlot.DATA, 0),
    },
  ],
  ATTENUATE: [
    {
      name: "a meter's share, when the MEMORY meter cannot pay for it",
      fault: 'out-of-memory',
      program: op('ATTENUATE', DomainSlot.SELF, FREE, DomainSlot.SELF, DomainSlot.TIME, 2),
      setup: smallMemory(LIMITS.meterWords - 1),
      options: { time: 1000 },
    },
    {
      name: 'option 2 on a page key',
      fault: 'bad-argument',
      program: op('ATTENUATE', DomainSlot.SELF, FREE, DomainSlot.SELF, 8, 2),
    },
    {
      name: 'negative option',
      fault: 'bad-argument',
      program: op('ATTENUATE', DomainSlot.SELF, FREE, DomainSlot.SELF, 8, -1),
    },
    {
      name: 'option 1 on a number key',
      fault: 'bad-argument',
      program: op('ATTENUATE', DomainSlot.SELF, FREE, DomainSlot.SELF, DomainSlot.STATE, 1),
    },
    {
      name: 'a null key',
      fault: 'null-key',
      program: op('ATTENUATE', DomainSlot.SELF, FREE, DomainSlot.SELF, 16, 1),
    },
    {
      name: 'into the STATE slot',
      fault: 'rights-violation',
      program: op('ATTENUATE', DomainSlot.SELF, DomainSlot.STATE, DomainSlot.SELF, 8, 1),
    },
    {
      name: 'a meter share into the STATE slot creates no meter',
      fault: 'rights-violation',
      program: op('ATTENUATE', DomainSlot.SELF, DomainSlot.STATE, DomainSlot.SELF, FREE, 2),
      setup: childMeter(FREE, 'time', 100),
    },
    {
      name: 'source index out of bounds',
      fault: 'out-of-bounds',
      program: op('ATTENUATE', DomainSlot.SELF, FREE, DomainSlot.SELF, 99, 1),
    },
  ],
  PAGEREAD: [
    { name: 'index = size', fault: 'out-of-bounds', program: op('PAGEREAD', DomainSlot.DATA, 256) },
    { name: 'negative index', fault: 'out-of-bounds', program: op('PAGEREAD', DomainSlot.DATA, -1) },
    { name: 'null key', fault: 'null-key', program: op('PAGEREAD', FREE, 0) },
    { name: 'a key page', fault: 'wrong-kind', program: op('PAGEREAD', DomainSlot.SELF, 0) },
    { name: 'a number key', fault: 'wrong-kind', program: op('PAGEREAD', DomainSlot.STATE, 0) },
    { name: 'slot out of bounds', fault: 'out-of-bounds', program: op('PAGEREAD', 28, 0) },
  ],
  PAGEWRITE: [
    {
      name: 'through a read-only key',
      fault: 'rights-violation',
      program: op('PAGEWRITE', 1, FREE, 0),
      setup: readOnlyData(FREE),
    },
    { name: 'index = size', fault: 'out-of-bounds', program: op('PAGEWRITE', 1, DomainSlot.DATA, 256) },
    { name: 'null key', fault: 'null-key', program: op('PAGEWRITE', 1, FREE, 0) },
    { name: 'a key page', fault: 'wrong-kind', program: op('PAGEWRITE', 1, DomainSlot.SELF, 0) },
    { name: 'a domain key', fault: 'wrong-kind', program: op('PAGEWRITE', 1, FREE, 0), setup: halter(FREE) },
  ],
  FORK: [
    {
      name: 'itself is busy',
      fault: 'busy',
      program: op('FORK', FREE, 0),
      setup: (m) => {
        rootPage(m).slots[FREE] = m.store.domainKey(rootPage(m));
      },
    },
    {
      name: 'twice is busy',
      fault: 'busy',
      program: [...op('FORK', FREE, 0), ...op('FORK', FREE, 0)],
      setup: halter(FREE),
    },
    { name: 'a null key', fault: 'null-key', program: op('FORK', FREE, 0) },
    { name: 'a device key', fault: 'wrong-kind', program: op('FORK', 12, 0) },
    {
      name: 'message slot out of bounds',
      fault: 'out-of-bounds',
      program: op('FORK', FREE, 99),
      setup: halter(FREE),
    },
  ],
  KEYTYPE: [
    { name: 'slot out of bounds', fault: 'out-of-bounds', program: op('KEYTYPE', 28) },
    { name: 'negative slot', fault: 'out-of-bounds', program: op('KEYTYPE', -1) },
  ],
  SEVER: [
    { name: 'the STATE slot', fault: 'rights-violation', program: op('SEVER', DomainSlot.STATE) },
    {
      name: 'a read-only key',
      fault: 'rights-violation',
      program: op('SEVER', FREE),
      setup: readOnlyData(FREE),
    },
    { name: 'a use-only meter key', fault: 'rights-violation', program: op('SEVER', DomainSlot.TIME) },
    { name: 'a device key', fault: 'rights-violation', program: op('SEVER', 12) },
    {
      name: 'a controlling key to a prime meter',
      fault: 'rights-violation',
      program: op('SEVER', FREE),
      setup: (m) => {
        rootPage(m).slots[FREE] = m.store.meterKey(m.store.primeTime, true);
      },
    },
    { name: 'a null key', fault: 'null-key', program: op('SEVER', FREE) },
    { name: 'slot out of bounds', fault: 'out-of-bounds', program: op('SEVER', 28) },
  ],
  DESTROY: [
    {
      name: 'a read-only key',
      fault: 'rights-violation',
      program: op('DESTROY', FREE),
      setup: readOnlyData(FREE),
    },
    { name: 'a null key', fault: 'null-key', program: op('DESTROY', FREE) },
    { name: 'the running domain', fault: 'busy', program: op('DESTROY', DomainSlot.SELF) },
    { name: 'a meter key', fault: 'wrong-kind', program: op('DESTROY', DomainSlot.TIME) },
    { name: 'slot out of bounds', fault: 'out-of-bounds', program: op('DESTROY', 99) },
  ],
  MAKEDOMAIN: [
    { name: 'already a domain', fault: 'bad-argument', program: op('MAKEDOMAIN', FREE, DomainSlot.SELF) },
    { name: 'a data page', fault: 'wrong-kind', program: op('MAKEDOMAIN', FREE, DomainSlot.DATA) },
    { name: 'a null key', fault: 'null-key', program: op('MAKEDOMAIN', FREE, 16) },
    {
      name: 'too few slots',
      fault: 'out-of-bounds',
      program: [...op('CREATEPAGE', 16, 1, 1, 11), ...op('MAKEDOMAIN', FREE, 16)],
    },
    {
      name: 'through a read-only key',
      fault: 'rights-violation',
      program: [
        ...op('CREATEPAGE', 16, 1, 1, 28),
        ...op('ATTENUATE', DomainSlot.SELF, 17, DomainSlot.SELF, 16, 1),
        ...op('MAKEDOMAIN', FREE, 17),
      ],
    },
    {
      name: 'gate into the STATE slot',
      fault: 'rights-violation',
      program: [...op('CREATEPAGE', 16, 1, 1, 28), ...op('MAKEDOMAIN', DomainSlot.STATE, 16)],
    },
  ],
  NUMKEY: [
    { name: 'the STATE slot', fault: 'rights-violation', program: op('NUMKEY', DomainSlot.STATE, 0) },
    { name: 'the own IP slot', fault: 'rights-violation', program: op('NUMKEY', DomainSlot.IP, 0) },
    { name: 'the own POINTER slot', fault: 'rights-violation', program: op('NUMKEY', DomainSlot.POINTER, 0) },
    { name: 'slot out of bounds', fault: 'out-of-bounds', program: op('NUMKEY', 28, 0) },
  ],
  KEYNUM: [
    { name: 'a null key', fault: 'null-key', program: op('KEYNUM', FREE) },
    { name: 'a page key', fault: 'wrong-kind', program: op('KEYNUM', DomainSlot.DATA) },
    { name: 'slot out of bounds', fault: 'out-of-bounds', program: op('KEYNUM', 28) },
  ],
  CREATEMETER: [
    { name: 'amount -2', fault: 'bad-argument', program: op('CREATEMETER', FREE, DomainSlot.TIME, -2) },
    {
      name: 'a MEMORY meter that cannot pay for it',
      fault: 'out-of-memory',
      program: op('CREATEMETER', FREE, DomainSlot.TIME, 5),
      setup: smallMemory(LIMITS.meterWords - 1),
    },
    {
      name: 'no MEMORY meter to pay for it',
      fault: 'null-key',
      program: op('CREATEMETER', FREE, DomainSlot.TIME, 5),
      setup: (m) => {
        rootPage(m).slots[DomainSlot.MEMORY] = NULL_KEY;
      },
    },
    { name: 'a null parent', fault: 'null-key', program: op('CREATEMETER', FREE, 16, 5) },
    { name: 'a page parent', fault: 'wrong-kind', program: op('CREATEMETER', FREE, DomainSlot.DATA, 5) },
    {
      name: 'into the STATE slot',
      fault: 'rights-violation',
      program: op('CREATEMETER', DomainSlot.STATE, DomainSlot.TIME, 5),
    },
    {
      name: 'slot out of bounds',
      fault: 'out-of-bounds',
      program: op('CREATEMETER', 28, DomainSlot.TIME, 5),
    },
  ],
  METERREAD: [
    { name: 'a null key', fault: 'null-key', program: op('METERREAD', FREE) },
    { name: 'a page key', fault: 'wrong-kind', program: op('METERREAD', DomainSlot.DATA) },
    { name: 'slot out of bounds', fault: 'out-of-bounds', program: op('METERREAD', 28) },
  ],
  METERSET: [
    { name: 'a use-only key', fault: 'rights-violation', program: op('METERSET', DomainSlot.TIME, 5) },
    {
      name: 'a controlling key to a prime meter',
      fault: 'rights-violation',
      program: op('METERSET', FREE, 5),
      setup: (m) => {
        rootPage(m).slots[FREE] = m.store.meterKey(m.store.primeTime, true);
      },
    },
    {
      name: 'amount -3',
      fault: 'bad-argument',
      program: op('METERSET', FREE, -3),
      setup: childMeter(FREE, 'time', 9),
    },
    { name: 'a null key', fault: 'null-key', program: op('METERSET', FREE, 5) },
    { name: 'a device key', fault: 'wrong-kind', program: op('METERSET', 12, 5) },
  ],
  METERKEEPER: [
    { name: 'a use-only key', fault: 'rights-violation', program: op('METERKEEPER', DomainSlot.TIME, 16) },
    {
      name: 'a keeper that is no domain',
      fault: 'wrong-kind',
      program: op('METERKEEPER', FREE, DomainSlot.DATA),
      setup: childMeter(FREE, 'time', 9),
    },
    { name: 'a null meter key', fault: 'null-key', program: op('METERKEEPER', 16, 17) },
  ],
  DEVICE: [
    { name: 'without a device key', fault: 'null-key', program: op('DEVICE', FREE, 0, 65) },
    {
      name: 'no devices at boot',
      fault: 'null-key',
      program: op('DEVICE', 12, 0, 65),
      options: { devices: false },
    },
    { name: 'a page key', fault: 'wrong-kind', program: op('DEVICE', DomainSlot.DATA, 0, 65) },
    { name: 'console op 9', fault: 'bad-argument', program: op('DEVICE', 12, 9, 0) },
    { name: 'console putChar -1', fault: 'bad-argument', program: op('DEVICE', 12, 0, -1) },
    { name: 'console putChar 0x110000', fault: 'bad-argument', program: op('DEVICE', 12, 0, 0x110000) },
    { name: 'input op 7', fault: 'bad-argument', program: op('DEVICE', 13, 7, 0) },
    { name: 'clock op 1', fault: 'bad-argument', program: op('DEVICE', 14, 1, 0) },
    {
      name: 'an unknown device type',
      fault: 'wrong-kind',
      program: op('DEVICE', FREE, 0, 0),
      setup: (m) => {
        rootPage(m).slots[FREE] = m.store.createDevice(9);
      },
    },
    { name: 'slot out of bounds', fault: 'out-of-bounds', program: op('DEVICE', 28, 0, 0) },
  ],
};

function bootCase(c: {
  program: Items;
  options?: BootOptions;
  data?: number[];
  setup?: (m: Machine) => void;
}) {
  const m = boot(c.program, c.options ?? {}, c.data);
  c.setup?.(m);
  return m;
}

describe('every opcode', () => {
  it('has a passing case', () => {
    for (const r of INSTRUCTIONS) expect(PASS[r.name].length, r.name).toBeGreaterThan(0);
  });

  for (const r of INSTRUCTIONS) {
    describe(r.name, () => {
      for (const c of PASS[r.name]) {
        it(`passes: ${c.name}`, () => {
          const m = bootCase(c);
          expect(runHalted(m)).toEqual(c.stack);
          c.check?.(m);
        });
      }
      const faults = [
        ...underflows.filter(([n]) => n === r.name).map(([, c]) => c),
        ...emptyUnderflows.filter(([n]) => n === r.name).map(([, c]) => c),
        ...(FAULTS[r.name] ?? []),
      ];
      for (const c of faults) {
        it(`faults ${c.fault}: ${c.name}`, () => {
          expectFaultAtomic(bootCase(c), c.fault);
        });
      }
    });
  }
});

describe('bad opcodes', () => {
  for (const word of [INSTRUCTIONS.length, 999, -1, INT_MAX, INT_MIN]) {
    it(`code word ${word} faults bad-opcode and changes nothing`, () => {
      const m = boot(['PUSH', 1, word, 'PUSH', 2]);
      const r = expectFaultAtomic(m, 'bad-opcode');
      expect(r.fault?.pc).toBe(2);
      expect(m.stack()).toEqual([1]);
    });
  }
  it('a PUSH whose immediate runs past the code faults at the PUSH', () => {
    const r = expectFaultAtomic(boot(['PUSH', 1, 'PUSH']), 'bad-opcode');
    expect(r.fault).toMatchObject({ pc: 2, number: 9 });
  });
  it('the first instruction may fault', () => {
    const r = expectFaultAtomic(boot([77]), 'bad-opcode');
    expect(r.fault).toMatchObject({ pc: 0 });
  });
});

describe('fault results', () => {
  it('carry the catalogue name and number, a message, pc and domain', () => {
    const m = boot(op('DIV', 1, 0));
    const r = m.run();
    expect(r).toMatchObject({
      status: 'fault',
      steps: 2,
      gasUsed: 2,
      fault: { code: 'division-by-zero', number: 3, pc: 4, domain: m.rootDomain },
    });
    expect(r.fault?.message).toMatch(/zero/);
    expect(m.domain(m.rootDomain).stateName).toBe('faulted');
  });
  it('a stack underflow names the operands the table lists, inline or dispatched, JIT or not', () => {
    for (const jit of [false, true, 'eager'] as const) {
      expect(boot(['PUSH', 1, 'PAGEWRITE'], { jit }).run().fault?.message).toBe(
        'PAGEWRITE needs 3 words (word slot index), the stack holds 1',
      );
      expect(boot(['PUSH', 1, 'ADD'], { jit }).run().fault?.message).toBe(
        'ADD needs 2 words (a b), the stack holds 1',
      );
      expect(boot(['KEYNUM'], { jit }).run().fault?.message).toBe(
        'KEYNUM needs 1 word (slot), the stack holds 0',
      );
    }
  });
  it('a wrong key names the operand when the instruction takes several slots', () => {
    // COPYKEY dpage didx spage sidx: which slot broke the rule is told by the table's names.
    expect(boot([...op('NUMKEY', 20, 7), ...op('COPYKEY', 8, 0, 20, 0)]).run().fault?.message).toBe(
      'slot 20 holds a number key (7), COPYKEY needs a page key for its spage operand',
    );
    expect(boot([...op('NUMKEY', 20, 7), ...op('COPYKEY', 20, 0, 8, 0)]).run().fault?.message).toBe(
      'slot 8 (DATA) holds a page key to a data page, COPYKEY needs a key to a key page for its spage operand',
    );
    // The same slot as both operands: the slot alone says which.
    expect(boot([...op('NUMKEY', 20, 7), ...op('COPYKEY', 20, 0, 20, 0)]).run().fault?.message).toBe(
      'slot 20 holds a number key (7), COPYKEY needs a page key',
    );
    // One slot operand: no operand name.
    expect(boot([...op('NUMKEY', 20, 7), ...op('PAGEREAD', 20, 0)]).run().fault?.message).toBe(
      'slot 20 holds a number key (7), PAGEREAD needs a page key',
    );
  });
  it('a faulted machine stays stopped and reports the same fault', () => {
    const m = boot(op('DIV', 1, 0));
    const first = m.run();
    const again = m.run();
    expect(again).toMatchObject({ status: 'fault', steps: 0, gasUsed: 0 });
    const { message: _m1, ...f1 } = first.fault!;
    const { message: _m2, ...f2 } = again.fault!;
    expect(f2).toEqual(f1);
    expect(m.stack()).toEqual([1, 0]);
  });
  it('a fault in a callee is charged to the callee', () => {
    const m = boot(op('CALL', FREE, 0));
    const child = addDomain(m, op('DIV', 1, 0), { slot: FREE });
    const r = m.run();
    expect(r.fault).toMatchObject({ code: 'division-by-zero', pc: 4, domain: child.id });
    expect(m.domain(m.rootDomain).stateName).toBe('waiting');
  });
  it('host data pages are reachable only through keys the host hands out', () => {
    const m = boot(op('PAGEREAD', FREE, 1));
    rootPage(m).slots[FREE] = hostDataPage(m, [5, 6]);
    expect(runHalted(m)).toEqual([6]);
  });
});

describe('metered instructions', () => {
  it("ATTENUATE's share of a time meter is of what it has now, however the run is cut", () => {
    // 100 NOPs, then half of the root's own TIME meter into slot FREE; read it.
    const program = [
      ...Array.from({ length: 100 }, () => 'NOP'),
      ...op('ATTENUATE', DomainSlot.SELF, FREE, DomainSlot.SELF, DomainSlot.TIME, 2),
      ...op('METERREAD', FREE),
    ];
    // The NOPs, the five PUSHes and ATTENUATE (its table gas, plus 1 for the one meter it settles) paid first.
    const share = Math.floor((1000 - 100 - 5 - INSTRUCTIONS[Op.ATTENUATE].gas - 1) / 2);
    const ends = [{}, { borrowLimit: 7 }, { quantum: 3 }].map((options) => {
      const m = boot(program, { time: 1000, ...options });
      let r = m.run({ maxSteps: 40 });
      while (r.status === 'paused') r = m.run({ maxSteps: 40 });
      expect(r.status).toBe('halted');
      return m.stack();
    });
    const whole = boot(program, { time: 1000 });
    expect(whole.run().status).toBe('halted');
    expect(whole.stack()).toEqual([share]);
    for (const end of ends) expect(end).toEqual([share]);
  });

  it('ATTENUATE sharing a meter at the deepest chain faults before it pays anything', () => {
    const m = boot(op('ATTENUATE', DomainSlot.SELF, FREE, DomainSlot.SELF, DomainSlot.TIME, 2), {
      time: 1000,
    });
    let key = rootPage(m).slots[DomainSlot.TIME]!;
    for (let i = 0; i < LIMITS.maxMeterDepth; i++) key = m.store.createMeter(key, UNLIMITED);
    rootPage(m).slots[DomainSlot.TIME] = key;
    expectFaultAtomic(m, 'bad-argument');
  });

  it('the ISA table states what a new meter costs in memory', () => {
    for (const o of [Op.CREATEMETER, Op.ATTENUATE])
      expect(INSTRUCTIONS[o].doc).toContain(`MEMORY meter pays ${LIMITS.meterWords} words`);
  });

  it('CREATEPAGE and PAGESIZESET without their operands fault stack-underflow, whatever the top word', () => {
    for (const name of ['CREATEPAGE', 'PAGESIZESET'] as const) {
      // Enough time for the base price (and the PUSH), far too little for the size.
      for (const time of [INSTRUCTIONS[Op[name]].gas + 10, undefined]) {
        const m = boot(['PUSH', 5_000_000, name], time === undefined ? {} : { time });
        expectFaultAtomic(m, 'stack-underflow');
      }
    }
  });

  it('every instruction costs its table gas', () => {
    const m = boot([...op('CREATEMETER', FREE, 0, 100), ...op('FORK', 16, 0), ...op('DEVICE', 12, 1, 3)], {
      time: 1000,
    });
    halter(16)(m);
    const r = m.run();
    const gas = (o: number) => INSTRUCTIONS[o]!.gas;
    // CREATEMETER, FORK, DEVICE with their PUSHes, the forked HALT (the prime meter is 0 deep: no chain gas).
    const cost = 3 + gas(Op.CREATEMETER) + (2 + gas(Op.FORK)) + (3 + gas(Op.DEVICE)) + gas(Op.HALT);
    expect(r).toMatchObject({ status: 'halted', gasUsed: cost });
    expect(m.store.primeTime.remaining).toBe(1000 - cost);
    expect(UNLIMITED).toBe(Number.POSITIVE_INFINITY);
  });

  it('allocating and copying large pages costs gas for the size, atomically', () => {
    // base + allocation + (4096 - free) / 4 for a 4096-word CREATEPAGE; base + allocation +
    // (2048 - free) / 4 to make it 2048 (a new array outside the heap, the words copied).
    const { free, wordsPerGas, allocation } = SIZE_GAS;
    const create = INSTRUCTIONS[Op.CREATEPAGE]!;
    const c = create.gas + allocation + (4096 - free) / wordsPerGas;
    const g = INSTRUCTIONS[Op.PAGESIZESET].gas + allocation + (2048 - free) / wordsPerGas;
    expect([c, g]).toEqual([gasFor(create, 4096), gasFor(INSTRUCTIONS[Op.PAGESIZESET], 2048)]);
    const program = [...op('CREATEPAGE', FREE, 0, 1, 4096), ...op('PAGESIZESET', FREE, 2048), 'PUSH', 7];
    const pushes = 4 + 2;
    const total = pushes + c + g + 1;
    const whole = boot(program);
    expect(whole.run()).toMatchObject({ status: 'halted', gasUsed: total });

    // One gas short of the CREATEPAGE: it waits, changing nothing, and goes on with more.
    const m = boot(program, { time: 4 + c - 1 });
    expect(m.run()).toMatchObject({ status: 'out-of-gas', gasUsed: 4 });
    expect(m.stack()).toEqual([FREE, 0, 1, 4096]);
    expect(m.domain(m.rootDomain).ip).toBe(8);
    // run({ gas }) sets the budget: enough for CREATEPAGE and two PUSHes, one short of PAGESIZESET.
    expect(m.run({ gas: c + 2 + g - 1 })).toMatchObject({ status: 'out-of-gas', gasUsed: c + 2 });
    expect(m.run({ gas: g + 1 })).toMatchObject({ status: 'halted', gasUsed: g + 1 });
    expect(m.stack()).toEqual(whole.stack());

    // The step hook reports the cost with the size.
    const costs: number[] = [];
    const traced = boot(program);
    traced.onStep = (s) => {
      if (s.opName === 'CREATEPAGE' || s.opName === 'PAGESIZESET') costs.push(s.gasCost);
    };
    traced.run();
    expect(costs).toEqual([c, g]);

    // The ISA's ceiling is the store's largest page.
    expect(gasFor(create, LIMITS.maxDataPageWords)).toBeGreaterThan(create.gas);
    expect(gasFor(create, LIMITS.maxDataPageWords + 1)).toBe(create.gas);
    expect(LIMITS.maxKeyPageSlots).toBeLessThanOrEqual(LIMITS.maxDataPageWords);
    // Pages the host keeps in its heap (up to 16 words) cost the base, KeyVM-size pages the
    // base and the allocation; a size no page can have faults at the base.
    expect(boot([...op('CREATEPAGE', FREE, 0, 1, 16)]).run()).toMatchObject({ gasUsed: 4 + create.gas });
    expect(boot([...op('CREATEPAGE', FREE, 0, 1, 256)]).run()).toMatchObject({
      gasUsed: 4 + create.gas + allocation,
    });
    // Key pages pay for every slot, SIZE_GAS.gasPerSlot each.
    const perSlot = SIZE_GAS.gasPerSlot;
    expect(perSlot).toBe(3);
    expect(boot([...op('CREATEPAGE', FREE, 1, 1, 100)]).run()).toMatchObject({
      gasUsed: 4 + create.gas + 100 * perSlot,
    });
    const resizeKeys = [...op('CREATEPAGE', FREE, 1, 1, 0), ...op('PAGESIZESET', FREE, 50)];
    expect(boot(resizeKeys).run()).toMatchObject({
      gasUsed: 6 + create.gas + INSTRUCTIONS[Op.PAGESIZESET].gas + 50 * perSlot,
    });
    expect(boot([...op('CREATEPAGE', FREE, 0, 1, 1 << 30)]).run()).toMatchObject({
      status: 'fault',
      fault: { code: 'bad-argument' },
    });
  });
});
