// The KeyVM instruction set, defined once as data. Every other package (the
// interpreter, assembler, disassembler, docs, CLI) reads this table; there is no
// second list of opcode names anywhere.
//
// Codes 0..20 are the original KeyVM's 21 instructions at its own numbers with its
// stack effects. Codes from 21 on are KeyVM-in-TypeScript extensions. Numbers are
// stable: a new instruction takes the next free code, and none is ever renumbered.
//
// Stack notation: `a b -- c` pops b (the top) then a, and pushes c; the first
// operand pushed is the first argument, so `sub(5,3)` leaves 2. An instruction's
// operands leave the stack (zeroed) before it touches any page, as in KeyVM.
// A "slot" operand is an index into the running domain's own key page (its
// domain page). A "page" operand of COPYKEY/ATTENUATE is a slot holding a key to
// a key page, and the index after it is a slot within that page.

/** Instruction families: hot ones are inlined by the interpreter, the rest dispatched. */
export type Family =
  | 'stack'
  | 'arith'
  | 'compare'
  | 'control'
  | 'page'
  | 'key'
  | 'domain'
  | 'meter'
  | 'device';

/**
 * What a stack operand means, so the assembler, disassembler, interpreter and docs
 * read it from the table rather than from the names in the effect string.
 */
export const OPERAND_KINDS = Object.freeze({
  word: 'any 32-bit word',
  slot: "a slot of the running domain's own key page (its domain page)",
  index: 'a word (data page) or slot (key page) offset within the page named by the slot operand before it',
  addr: "a word offset in the running domain's code page (its size, the end, included)",
  size: 'a page size: words of a data page or slots of a key page (gas grows with it)',
  type: 'a page type: 0 data, 1 keys',
  option: 'an attenuation: 0 copy, 1 read-only page or use-only meter, n >= 2 a child meter with 1/n',
  amount: 'a meter amount: -1 unlimited, else not negative',
  op: 'a device operation (see Devices)',
} as const);

/** The kind of a stack operand: a key of OPERAND_KINDS. */
export type OperandKind = keyof typeof OPERAND_KINDS;

/** One stack operand of an instruction: its name in the effect string and its kind. */
export interface Operand<N extends string = string> {
  readonly name: N;
  readonly kind: OperandKind;
}

export interface InstructionInfo {
  /** The opcode: the code word stored in a code page. */
  readonly code: number;
  /** Upper-case mnemonic. */
  readonly name: string;
  /** Number of immediate words that follow the opcode in the code page. */
  readonly immediates: number;
  /** Words popped from the stack. */
  readonly pops: number;
  /**
   * The popped operands in KeyVM's order, first pushed first (the deepest first):
   * their names as the effect string has them, and their kinds. `pops` long.
   */
  readonly operands: readonly Operand[];
  /** Words pushed on the stack. */
  readonly pushes: number;
  /** Time-meter units charged before the instruction executes (the base, see `sizeGas`). */
  readonly gas: number;
  /**
   * The instruction's work grows with the size operand on top of the stack (the
   * words or slots it allocates and copies), so it also costs `SIZE_GAS` for it:
   * see `gasFor`.
   */
  readonly sizeGas: boolean;
  /** Stack effect in Forth notation. */
  readonly effect: string;
  /** One-line meaning. */
  readonly doc: string;
  readonly family: Family;
  /** True for the original KeyVM's 21 instructions. */
  readonly keyvm: boolean;
}

const row = <
  const C extends number,
  const N extends string,
  const F extends Family,
  const O extends Readonly<Record<string, OperandKind>> = Record<never, OperandKind>,
>(r: {
  code: C;
  name: N;
  immediates?: number;
  pops: number;
  /** Operand names (as in `effect`) to kinds, first pushed first; none when omitted. */
  operands?: O;
  pushes: number;
  gas?: number;
  sizeGas?: boolean;
  effect: string;
  doc: string;
  family: F;
  keyvm?: boolean;
}) =>
  ({
    code: r.code,
    name: r.name,
    immediates: r.immediates ?? 0,
    pops: r.pops,
    operands: Object.freeze(
      Object.entries(r.operands ?? {}).map(([name, kind]) => Object.freeze({ name, kind })),
    ) as readonly Operand<Extract<keyof O, string>>[],
    pushes: r.pushes,
    gas: r.gas ?? 1,
    sizeGas: r.sizeGas ?? false,
    effect: r.effect,
    doc: r.doc,
    family: r.family,
    keyvm: r.keyvm ?? false,
  }) as const;

/**
 * The instruction table, indexed by opcode.
 *
 * Prices (the `gas` column) follow host time: in packages/interpreter/bench/worst-case.bench.mjs
 * each instruction's worst case we can construct, in host ns per gas, stays within 50x
 * of the compiled countdown loop (aimed at ~25x, since figures swing ~2x on a loaded
 * machine). The JIT runs a one-block loop as a JS loop (~0.25 ns per gas), so:
 * - 1: instructions compiled inline (stack, arithmetic, compare, JUMP/JUMPIF, PAGEREAD,
 *   PAGEWRITE, PAGESIZEGET, KEYTYPE, KEYNUM: jit.ts asserts they cost exactly 1), and
 *   HALT, which runs at most once per domain (MAKEDOMAIN pays for it).
 * - 16 (PAGETYPE): the floor of a heavy instruction. Leaving compiled code for the
 *   interpreter and coming back costs ~100-130 ns whatever it does (~95-110x at 1 gas).
 * - 24 CALL, CALLW, RETURN, METERREAD, METERSET, METERKEEPER (it swept ~24-46x at 16);
 *   32 COPYKEY, NUMKEY; 40 ATTENUATE;
 *   48 SEVER, CREATEMETER, DESTROY, DEVICE: a heavy exit plus a new key object, a
 *   domain switch, a device's transcript, or a settle of the meter chain (which also
 *   costs 1 per meter of the chain, `SETTLES` in the interpreter).
 * - 64 CREATEPAGE and 128 PAGESIZESET (plus `SIZE_GAS` for the size), 80 YIELD (among
 *   many halted domains), 128 FORK, 192 MAKEDOMAIN: allocation, GC and scheduling.
 */
// biome-ignore format: one row per instruction reads as a table
export const INSTRUCTIONS = Object.freeze([
  // --- The original KeyVM's 21 instructions, at KeyVM's numbers. ---
  row({ code: 0, name: 'PUSH', immediates: 1, pops: 0, pushes: 1, effect: '-- n', doc: 'Push the immediate word n.', family: 'stack', keyvm: true }),
  row({ code: 1, name: 'ADD', pops: 2, pushes: 1, operands: { a: 'word', b: 'word' }, effect: 'a b -- a+b', doc: 'Wrapping 32-bit addition.', family: 'arith', keyvm: true }),
  row({ code: 2, name: 'SUB', pops: 2, pushes: 1, operands: { a: 'word', b: 'word' }, effect: 'a b -- a-b', doc: 'Wrapping 32-bit subtraction.', family: 'arith', keyvm: true }),
  row({ code: 3, name: 'MUL', pops: 2, pushes: 1, operands: { a: 'word', b: 'word' }, effect: 'a b -- a*b', doc: 'Wrapping 32-bit multiplication (low 32 bits of the product).', family: 'arith', keyvm: true }),
  row({ code: 4, name: 'DIV', pops: 2, pushes: 1, operands: { a: 'word', b: 'word' }, effect: 'a b -- floor(a/b)', doc: 'Floored division as in KeyVM; faults with division-by-zero when b is 0.', family: 'arith', keyvm: true }),
  row({ code: 5, name: 'MOD', pops: 2, pushes: 1, operands: { a: 'word', b: 'word' }, effect: 'a b -- a%b', doc: 'Floored modulo (takes the sign of b) as in KeyVM; faults with division-by-zero when b is 0.', family: 'arith', keyvm: true }),
  row({ code: 6, name: 'AND', pops: 2, pushes: 1, operands: { a: 'word', b: 'word' }, effect: 'a b -- a&b', doc: 'Bitwise and.', family: 'arith', keyvm: true }),
  row({ code: 7, name: 'OR', pops: 2, pushes: 1, operands: { a: 'word', b: 'word' }, effect: 'a b -- a|b', doc: 'Bitwise or.', family: 'arith', keyvm: true }),
  row({ code: 8, name: 'XOR', pops: 2, pushes: 1, operands: { a: 'word', b: 'word' }, effect: 'a b -- a^b', doc: 'Bitwise exclusive or.', family: 'arith', keyvm: true }),
  row({ code: 9, name: 'NOT', pops: 1, pushes: 1, operands: { a: 'word' }, effect: 'a -- ~a', doc: 'Bitwise not.', family: 'arith', keyvm: true }),
  row({ code: 10, name: 'CREATEPAGE', pops: 4, pushes: 0, operands: { slot: 'slot', type: 'type', meter: 'slot', size: 'size' }, effect: 'slot type meter size --', doc: 'Create a page of `type` (0 data, 1 keys) and `size` words/slots, charged to the memory meter in slot `meter`; its key goes to `slot`.', family: 'page', keyvm: true, sizeGas: true, gas: 64 }),
  row({ code: 11, name: 'PAGETYPE', pops: 1, pushes: 1, operands: { slot: 'slot' }, effect: 'slot -- type', doc: 'Type of the page whose key is in `slot`: 0 data, 1 keys.', family: 'page', keyvm: true, gas: 16 }),
  row({ code: 12, name: 'PAGESIZESET', pops: 2, pushes: 0, operands: { slot: 'slot', size: 'size' }, effect: 'slot size --', doc: 'Resize the page in `slot` (needs a read-write key); growth is charged to and shrinking refunded to the page\'s memory meter.', family: 'page', keyvm: true, sizeGas: true, gas: 128 }),
  row({ code: 13, name: 'PAGESIZEGET', pops: 1, pushes: 1, operands: { slot: 'slot' }, effect: 'slot -- size', doc: 'Size in words (data page) or slots (key page) of the page in `slot`.', family: 'page', keyvm: true }),
  row({ code: 14, name: 'CALL', pops: 2, pushes: 0, operands: { target: 'slot', msg: 'slot' }, effect: 'target msg --', doc: 'Call the domain whose gate key is in `target`, handing it the key in `msg` (to its RECV) and a fresh resume key (to its RESUME); wait until resumed.', family: 'control', keyvm: true, gas: 24 }),
  row({ code: 15, name: 'COPYKEY', pops: 4, pushes: 0, operands: { dpage: 'slot', didx: 'index', spage: 'slot', sidx: 'index' }, effect: 'dpage didx spage sidx --', doc: 'Copy the key at index `sidx` of the key page in slot `spage` to index `didx` of the key page in slot `dpage` (read-write key needed on the destination).', family: 'key', keyvm: true, gas: 32 }),
  row({ code: 16, name: 'ATTENUATE', pops: 5, pushes: 0, operands: { dpage: 'slot', didx: 'index', spage: 'slot', sidx: 'index', option: 'option' }, effect: 'dpage didx spage sidx option --', doc: 'Like COPYKEY but weakens the key: option 0 copies, 1 makes a page key read-only or a meter key use-only, n>=2 on a meter key makes a child meter holding 1/n of what it has now (the domain\'s MEMORY meter pays 32 words for it).', family: 'key', keyvm: true, gas: 40 }),
  row({ code: 17, name: 'JUMP', pops: 1, pushes: 0, operands: { addr: 'addr' }, effect: 'addr --', doc: 'Continue at word offset `addr`; faults bad-jump when `addr` is outside the code page (its size, the end, is allowed).', family: 'control', keyvm: true }),
  row({ code: 18, name: 'JUMPIF', pops: 2, pushes: 0, operands: { addr: 'addr', cond: 'word' }, effect: 'addr cond --', doc: 'Continue at `addr` when `cond` is non-zero; a taken jump outside the code page faults bad-jump, as JUMP.', family: 'control', keyvm: true }),
  row({ code: 19, name: 'PAGEREAD', pops: 2, pushes: 1, operands: { slot: 'slot', index: 'index' }, effect: 'slot index -- word', doc: 'Read word `index` of the data page in `slot`.', family: 'page', keyvm: true }),
  row({ code: 20, name: 'PAGEWRITE', pops: 3, pushes: 0, operands: { word: 'word', slot: 'slot', index: 'index' }, effect: 'word slot index --', doc: 'Write `word` at `index` of the data page in `slot` (read-write key needed); KeyVM\'s operand order.', family: 'page', keyvm: true }),

  // --- Extensions. ---
  row({ code: 21, name: 'HALT', pops: 0, pushes: 0, effect: '--', doc: 'Stop this domain. A called domain returns to its caller (null key, word 0); the last runnable domain halting halts the machine.', family: 'control' }),
  row({ code: 22, name: 'NOP', pops: 0, pushes: 0, effect: '--', doc: 'Do nothing.', family: 'stack' }),
  row({ code: 23, name: 'DUP', pops: 1, pushes: 2, operands: { a: 'word' }, effect: 'a -- a a', doc: 'Duplicate the top word.', family: 'stack' }),
  row({ code: 24, name: 'DROP', pops: 1, pushes: 0, operands: { a: 'word' }, effect: 'a --', doc: 'Discard the top word.', family: 'stack' }),
  row({ code: 25, name: 'SWAP', pops: 2, pushes: 2, operands: { a: 'word', b: 'word' }, effect: 'a b -- b a', doc: 'Exchange the top two words.', family: 'stack' }),
  row({ code: 26, name: 'OVER', pops: 2, pushes: 3, operands: { a: 'word', b: 'word' }, effect: 'a b -- a b a', doc: 'Copy the second word to the top.', family: 'stack' }),
  row({ code: 27, name: 'EQ', pops: 2, pushes: 1, operands: { a: 'word', b: 'word' }, effect: 'a b -- a==b', doc: '1 if equal, else 0.', family: 'compare' }),
  row({ code: 28, name: 'NE', pops: 2, pushes: 1, operands: { a: 'word', b: 'word' }, effect: 'a b -- a!=b', doc: '1 if different, else 0.', family: 'compare' }),
  row({ code: 29, name: 'LT', pops: 2, pushes: 1, operands: { a: 'word', b: 'word' }, effect: 'a b -- a<b', doc: 'Signed less-than: 1 or 0.', family: 'compare' }),
  row({ code: 30, name: 'LE', pops: 2, pushes: 1, operands: { a: 'word', b: 'word' }, effect: 'a b -- a<=b', doc: 'Signed less-or-equal: 1 or 0.', family: 'compare' }),
  row({ code: 31, name: 'GT', pops: 2, pushes: 1, operands: { a: 'word', b: 'word' }, effect: 'a b -- a>b', doc: 'Signed greater-than: 1 or 0.', family: 'compare' }),
  row({ code: 32, name: 'GE', pops: 2, pushes: 1, operands: { a: 'word', b: 'word' }, effect: 'a b -- a>=b', doc: 'Signed greater-or-equal: 1 or 0.', family: 'compare' }),
  row({ code: 33, name: 'ISZERO', pops: 1, pushes: 1, operands: { a: 'word' }, effect: 'a -- a==0', doc: '1 if the word is zero, else 0.', family: 'compare' }),
  row({ code: 34, name: 'NEG', pops: 1, pushes: 1, operands: { a: 'word' }, effect: 'a -- -a', doc: 'Wrapping negation.', family: 'arith' }),
  row({ code: 35, name: 'SHL', pops: 2, pushes: 1, operands: { a: 'word', n: 'word' }, effect: 'a n -- a<<n', doc: 'Shift left by n mod 32.', family: 'arith' }),
  row({ code: 36, name: 'SHR', pops: 2, pushes: 1, operands: { a: 'word', n: 'word' }, effect: 'a n -- a>>n', doc: 'Arithmetic (sign-keeping) shift right by n mod 32.', family: 'arith' }),
  row({ code: 37, name: 'SHRU', pops: 2, pushes: 1, operands: { a: 'word', n: 'word' }, effect: 'a n -- a>>>n', doc: 'Logical shift right by n mod 32.', family: 'arith' }),
  row({ code: 38, name: 'CALLW', pops: 3, pushes: 1, operands: { target: 'slot', msg: 'slot', word: 'word' }, effect: 'target msg word -- reply', doc: 'CALL that also passes `word` (pushed on the callee\'s stack) and, when resumed, pushes the reply word.', family: 'control', gas: 24 }),
  row({ code: 39, name: 'RETURN', pops: 3, pushes: 0, operands: { resume: 'slot', key: 'slot', word: 'word' }, effect: 'resume key word --', doc: 'Resume the domain whose resume key is in slot `resume`, handing it the key in slot `key` and `word`; this domain becomes available for the next call. Every copy of the resume key is void afterwards.', family: 'control', gas: 24 }),
  row({ code: 40, name: 'FORK', pops: 2, pushes: 0, operands: { target: 'slot', msg: 'slot' }, effect: 'target msg --', doc: 'Start the available domain in `target` with the key in `msg`, without waiting; it is queued after the running domains.', family: 'control', gas: 128 }),
  row({ code: 41, name: 'YIELD', pops: 0, pushes: 0, effect: '--', doc: 'Let the next runnable domain run; this one goes to the back of the queue.', family: 'control', gas: 80 }),
  row({ code: 42, name: 'KEYTYPE', pops: 1, pushes: 1, operands: { slot: 'slot' }, effect: 'slot -- kind', doc: 'Kind of the key in `slot` (0 null, 1 number, 2 page, 3 read-only page, 4 domain, 5 resume, 6 meter, 7 device); a void key reads as 0.', family: 'key' }),
  row({ code: 43, name: 'SEVER', pops: 1, pushes: 0, operands: { slot: 'slot' }, effect: 'slot --', doc: 'Revoke: every outstanding key to the object in `slot` (a read-write page key or a controlling meter key) becomes void; `slot` gets a fresh key.', family: 'key', gas: 48 }),
  row({ code: 44, name: 'DESTROY', pops: 1, pushes: 0, operands: { slot: 'slot' }, effect: 'slot --', doc: 'Free the page in `slot` (read-write key needed): its memory is refunded and every key to it becomes void.', family: 'page', gas: 48 }),
  row({ code: 45, name: 'MAKEDOMAIN', pops: 2, pushes: 0, operands: { dst: 'slot', src: 'slot' }, effect: 'dst src --', doc: 'Turn the key page in `src` (read-write key, laid out as a domain) into an available domain; its gate key goes to `dst`.', family: 'domain', gas: 192 }),
  row({ code: 46, name: 'NUMKEY', pops: 2, pushes: 0, operands: { slot: 'slot', word: 'word' }, effect: 'slot word --', doc: 'Put a number key carrying `word` into `slot`.', family: 'key', gas: 32 }),
  row({ code: 47, name: 'KEYNUM', pops: 1, pushes: 1, operands: { slot: 'slot' }, effect: 'slot -- word', doc: 'The word carried by the number key in `slot`.', family: 'key' }),
  row({ code: 48, name: 'CREATEMETER', pops: 3, pushes: 0, operands: { dst: 'slot', parent: 'slot', amount: 'amount' }, effect: 'dst parent amount --', doc: 'Create a child of the meter in `parent` holding `amount` (-1 unlimited, still bounded by its ancestors); a controlling key to it goes to `dst`. The domain\'s MEMORY meter pays 32 words for it.', family: 'meter', gas: 48 }),
  row({ code: 49, name: 'METERREAD', pops: 1, pushes: 1, operands: { slot: 'slot' }, effect: 'slot -- remaining', doc: 'What the meter in `slot` has left (-1 when unlimited, clamped to 2^31-1).', family: 'meter', gas: 24 }),
  row({ code: 50, name: 'METERSET', pops: 2, pushes: 0, operands: { slot: 'slot', amount: 'amount' }, effect: 'slot amount --', doc: 'Set what the meter in `slot` has left (controlling key needed; -1 unlimited).', family: 'meter', gas: 24 }),
  row({ code: 51, name: 'METERKEEPER', pops: 2, pushes: 0, operands: { meter: 'slot', keeper: 'slot' }, effect: 'meter keeper --', doc: 'Make the domain in slot `keeper` (or nobody, for a null key) the keeper of the meter in slot `meter` (controlling key needed).', family: 'meter', gas: 24 }),
  row({ code: 52, name: 'DEVICE', pops: 3, pushes: 1, operands: { slot: 'slot', op: 'op', arg: 'word' }, effect: 'slot op arg -- result', doc: 'Invoke the device whose key is in `slot` with operation `op` and argument `arg`; the operations are listed under Devices in docs/isa.md.', family: 'device', gas: 48 }),
  row({ code: 53, name: 'PICK', immediates: 1, pops: 0, pushes: 1, effect: '-- x', doc: 'Push a copy of the word k below the top (the immediate k; PICK 0 is DUP): a compiled function\'s arguments and locals, read from its frame on the stack.', family: 'stack' }),
  row({ code: 54, name: 'PUT', immediates: 1, pops: 1, pushes: 0, operands: { a: 'word' }, effect: 'a --', doc: 'Pop a and store it over the word k below the new top (the immediate k; PUT 0 is NIP): assignment to a compiled function\'s argument or local.', family: 'stack' }),
] as const);

export type InstructionRow = (typeof INSTRUCTIONS)[number];
/** The union of every opcode number. */
export type Opcode = InstructionRow['code'];
/** The union of every mnemonic. */
export type Mnemonic = InstructionRow['name'];

/** Opcode numbers by mnemonic, e.g. `Op.PUSH === 0`. Derived from the table. */
export const Op = Object.freeze(Object.fromEntries(INSTRUCTIONS.map((r) => [r.name, r.code]))) as {
  readonly [R in InstructionRow as R['name']]: R['code'];
};

/**
 * Where each named operand of `info` sits among its operands, first pushed first:
 * `operandPositions(INSTRUCTIONS[Op.PAGEWRITE])` is `{ word: 0, slot: 1, index: 2 }`.
 * Handlers index their taken operands with it instead of restating the order.
 */
export function operandPositions<const R extends InstructionInfo>(
  info: R,
): { readonly [K in R['operands'][number]['name']]: number } {
  const positions: Record<string, number> = {};
  info.operands.forEach((o, i) => {
    positions[o.name] = i;
  });
  return Object.freeze(positions) as { readonly [K in R['operands'][number]['name']]: number };
}

/**
 * Gas for the size of instructions whose work grows with it (`sizeGas`): data
 * pages up to `heapWords` words cost only the base; a larger one `allocation` more,
 * as its words are allocated outside the JS heap (1-4 us each from 17 words to 1,024,
 * about the same whatever the size: a CREATEPAGE + DESTROY of 256 words ran at ~120x
 * the countdown loop's host time per gas without it); past `free` words (KeyVM's
 * 256-word pages are within), 1 more per `wordsPerGas`; key pages `gasPerSlot` more per slot
 * from the first (a slot costs the host far more than a word: allocating, filling
 * and later collecting an array of 2^20 slots took ~70x the countdown loop's host
 * time per gas at 1 gas a slot, and 20-63x at 2 on a shared machine, GC-bound). So allocating and copying a page costs about what
 * running instructions for as long would (packages/interpreter/bench/worst-case.bench.mjs
 * measures it).
 */
export const SIZE_GAS = Object.freeze({
  free: 256,
  wordsPerGas: 4,
  gasPerSlot: 3,
  heapWords: 16,
  allocation: 288,
} as const);

/** The largest page the store allows (a data page of 1 << 24 words); a larger size faults, unpaid. */
const MAX_SIZED_WORDS = 1 << 24;
/** The largest key page the store allows, in slots. */
const MAX_SIZED_SLOTS = 1 << 20;

/**
 * The gas an instruction costs when `top` is the word on top of the stack
 * (undefined when the stack is empty) and, for a `sizeGas` instruction, `keys`
 * says whether the page is a key page. A size outside the page limits still costs
 * only the base: the instruction faults without doing the work.
 */
export function gasFor(info: InstructionInfo, top: number | undefined, keys = false): number {
  if (!info.sizeGas || top === undefined || top <= 0 || top > MAX_SIZED_WORDS) return info.gas;
  if (keys) return top > MAX_SIZED_SLOTS ? info.gas : info.gas + top * SIZE_GAS.gasPerSlot;
  if (top <= SIZE_GAS.heapWords) return info.gas;
  const allocated = info.gas + SIZE_GAS.allocation;
  if (top <= SIZE_GAS.free) return allocated;
  return allocated + Math.ceil((top - SIZE_GAS.free) / SIZE_GAS.wordsPerGas);
}
