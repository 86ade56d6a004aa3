// A generator of stack-balanced programs that reach real states: counted loops
// (nested), page writes, reads and resizes, meters made, read and set, number keys,
// and a second domain made with MAKEDOMAIN and called with CALLW, answering with
// RETURN from a loop of its own; now and then a random instruction, so faults happen
// too, but rarely. Each block leaves the stack as it found it.
import type { Program } from '@keyvm/interpreter';
import { INSTRUCTIONS, Op } from '@keyvm/isa';
import fc from 'fast-check';

// The domain layout (@keyvm/core's DomainSlot; this package does not depend on core).
const TIME = 0;
const MEMORY = 1;
const SELF = 2;
const CODE = 5;
const STACK = 7;
const DATA = 8;
const RESUME = 11;
/** General slots this generator uses: two data pages, the child's key page, its stack, its gate, a meter, a number key. */
const PAGE_A = 20;
const PAGE_B = 21;
const CHILD_PAGE = 15;
const CHILD_STACK = 17;
const GATE = 18;
const METER = 24;
const NUMBER = 25;
/** Words the data pages start with; resizes only grow them, and indices stay below. */
const PAGE_MIN = 16;

/** One stack-balanced piece of a program. */
export type Block =
  | { readonly t: 'arith'; readonly op: number; readonly a: number; readonly b: number }
  | { readonly t: 'stack'; readonly a: number; readonly b: number }
  | { readonly t: 'write'; readonly page: 0 | 1; readonly index: number; readonly word: number }
  | { readonly t: 'read'; readonly page: 0 | 1; readonly index: number }
  | { readonly t: 'grow'; readonly page: 0 | 1; readonly size: number }
  | { readonly t: 'size'; readonly page: 0 | 1 }
  | { readonly t: 'meter'; readonly set: number | null }
  | { readonly t: 'number'; readonly word: number }
  | { readonly t: 'call'; readonly word: number }
  | { readonly t: 'yield' }
  | { readonly t: 'risky'; readonly words: readonly number[] }
  | { readonly t: 'loop'; readonly n: number; readonly body: readonly Block[] };

/** What a program's prelude set up: which blocks have something to work on. */
interface Context {
  readonly child: boolean;
  readonly meter: boolean;
  readonly server: boolean;
}

/** Push each word, then the instruction: `op(CREATEPAGE, 20, 0, 1, 16)`. */
const op = (code: number, ...args: number[]): number[] => [...args.flatMap((a) => [Op.PUSH, a]), code];

const BINARY = [Op.ADD, Op.SUB, Op.MUL, Op.AND, Op.OR, Op.XOR, Op.EQ, Op.LT, Op.GE, Op.SHL, Op.SHR, Op.SHRU];

const small = fc.integer({ min: -40, max: 40 });
const pageArb = fc.constantFrom<0 | 1>(0, 1);

const simpleBlock: fc.Arbitrary<Block> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constant('arith'), op: fc.constantFrom(...BINARY), a: small, b: small }),
  },
  // DIV and MOD by a divisor that is never 0 here (faults come from `risky`).
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('arith'),
      op: fc.constantFrom(Op.DIV, Op.MOD),
      a: small,
      b: fc.integer({ min: 1, max: 9 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('stack'), a: small, b: small }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('write'),
      page: pageArb,
      index: fc.integer({ min: 0, max: PAGE_MIN - 1 }),
      word: fc.integer(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('read'),
      page: pageArb,
      index: fc.integer({ min: 0, max: PAGE_MIN - 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('grow'),
      page: pageArb,
      size: fc.integer({ min: PAGE_MIN, max: 300 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('size'), page: pageArb }) },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('meter'), set: fc.option(fc.integer({ min: -1, max: 5000 })) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('number'), word: fc.integer() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('call'), word: small }) },
  { weight: 1, arbitrary: fc.constant<Block>({ t: 'yield' }) },
  // Rarely, any instruction with small operands: faults, keys copied, pages destroyed...
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: INSTRUCTIONS.length - 1 }).chain((code) =>
      fc
        .array(fc.integer({ min: -1, max: 27 }), {
          minLength: INSTRUCTIONS[code]!.pops,
          maxLength: INSTRUCTIONS[code]!.pops,
        })
        .map(
          (args): Block => ({
            t: 'risky',
            words: [...op(code, ...args), ...Array(INSTRUCTIONS[code]!.immediates).fill(0)],
          }),
        ),
    ),
  },
);

/** Blocks with loops nested at most `depth` deep. */
const blocksArb = (depth: number, maxLength: number): fc.Arbitrary<Block[]> => {
  const block: fc.Arbitrary<Block> =
    depth === 0
      ? simpleBlock
      : fc.oneof(
          { weight: 5, arbitrary: simpleBlock },
          {
            weight: 3,
            arbitrary: fc.record({
              t: fc.constant('loop'),
              n: fc.integer({ min: 1, max: 16 }),
              body: blocksArb(depth - 1, 4).filter((b) => b.length > 0),
            }),
          },
        );
  return fc.array(block, { maxLength });
};

/** Emit `blocks` after `out`'s words (jump addresses are offsets into `out`). */
function emit(blocks: readonly Block[], ctx: Context, out: number[]): void {
  const slotOf = (page: 0 | 1) => (page === 0 ? PAGE_A : PAGE_B);
  for (const b of blocks) {
    switch (b.t) {
      case 'arith':
        out.push(...op(b.op, b.a, b.b), Op.DROP);
        break;
      case 'stack':
        out.push(...op(Op.OVER, b.a, b.b), Op.SWAP, Op.DROP, Op.ADD, Op.DROP);
        break;
      case 'write':
        out.push(...op(Op.PAGEWRITE, b.word, slotOf(b.page), b.index));
        break;
      case 'read':
        out.push(...op(Op.PAGEREAD, slotOf(b.page), b.index), Op.DROP);
        break;
      case 'grow':
        out.push(...op(Op.PAGESIZESET, slotOf(b.page), b.size));
        break;
      case 'size':
        out.push(...op(Op.PAGESIZEGET, slotOf(b.page)), Op.DROP);
        break;
      case 'meter':
        if (b.set !== null && ctx.meter) out.push(...op(Op.METERSET, METER, b.set));
        else out.push(...op(Op.METERREAD, ctx.meter ? METER : TIME), Op.DROP);
        break;
      case 'number':
        out.push(...op(Op.NUMKEY, NUMBER, b.word), ...op(Op.KEYNUM, NUMBER), Op.DROP);
        out.push(...op(Op.KEYTYPE, NUMBER), Op.DROP);
        break;
      case 'call':
        // CALLW hands the child a word and pushes its reply; the server drops both ends.
        if (ctx.child && !ctx.server) out.push(...op(Op.CALLW, GATE, PAGE_B, b.word), Op.DROP);
        break;
      case 'yield':
        out.push(Op.YIELD);
        break;
      case 'risky':
        out.push(...b.words);
        break;
      case 'loop': {
        // PUSH n; top: body; PUSH 1, SUB, DUP, PUSH top, SWAP, JUMPIF; DROP
        out.push(Op.PUSH, b.n);
        const top = out.length;
        emit(b.body, ctx, out);
        out.push(Op.PUSH, 1, Op.SUB, Op.DUP, Op.PUSH, top, Op.SWAP, Op.JUMPIF, Op.DROP);
        break;
      }
    }
  }
}

/** Make the two data pages every page block works on. */
const makePages = (sizeA: number, sizeB: number): number[] => [
  ...op(Op.CREATEPAGE, PAGE_A, 0, MEMORY, sizeA),
  ...op(Op.CREATEPAGE, PAGE_B, 0, MEMORY, sizeB),
];

/**
 * Make a child domain whose code is the root's DATA page (the server), with its own
 * stack, on the root's time meter or on a child meter of it; its gate goes to GATE.
 */
const makeChild = (ownMeter: boolean): number[] => [
  ...op(Op.CREATEPAGE, CHILD_PAGE, 1, MEMORY, 28),
  ...op(Op.CREATEPAGE, CHILD_STACK, 0, MEMORY, 32),
  ...op(Op.COPYKEY, CHILD_PAGE, TIME, SELF, ownMeter ? METER : TIME),
  ...op(Op.COPYKEY, CHILD_PAGE, MEMORY, SELF, MEMORY),
  ...op(Op.COPYKEY, CHILD_PAGE, CODE, SELF, DATA),
  ...op(Op.COPYKEY, CHILD_PAGE, STACK, SELF, CHILD_STACK),
  ...op(Op.MAKEDOMAIN, GATE, CHILD_PAGE),
];

export interface BalancedProgram {
  readonly program: Program;
  /** Whether the root makes a second domain. */
  readonly child: boolean;
}

/**
 * Programs whose root makes two data pages, maybe a meter (a child of its time meter)
 * and maybe a child domain, then runs blocks; the child (the root's DATA page as code)
 * makes its own pages, then loops: drop the word it was called with, run its
 * blocks, RETURN a word to its caller.
 */
export const balancedProgram: fc.Arbitrary<BalancedProgram> = fc
  .record({
    child: fc.boolean(),
    meter: fc.boolean(),
    ownMeter: fc.boolean(),
    meterAmount: fc.integer({ min: -1, max: 3000 }),
    sizes: fc.tuple(fc.integer({ min: PAGE_MIN, max: 64 }), fc.integer({ min: PAGE_MIN, max: 300 })),
    root: blocksArb(2, 10),
    server: blocksArb(1, 5),
    reply: small,
  })
  .map(({ child, meter, ownMeter, meterAmount, sizes, root, server, reply }) => {
    const code: number[] = [...makePages(...sizes)];
    if (meter) code.push(...op(Op.CREATEMETER, METER, TIME, meterAmount));
    if (child) code.push(...makeChild(meter && ownMeter));
    emit(root, { child, meter, server: false }, code);
    const data: number[] = [...makePages(PAGE_MIN, PAGE_MIN)];
    const top = data.length;
    data.push(Op.DROP);
    emit(server, { child: false, meter: false, server: true }, data);
    data.push(...op(Op.RETURN, RESUME, 0, reply), Op.PUSH, top, Op.JUMP);
    return { program: { code, data }, child };
  });
