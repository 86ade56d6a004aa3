// The one catalogue of guest fault codes: the rules a program can break. Both the
// store (rights, bounds, memory) and the interpreter (stack, opcodes, gas) raise
// them; keepers receive the numeric code, people read the name.

export const FAULT_TABLE = Object.freeze([
  { code: 1, name: 'stack-underflow', doc: 'An instruction needed more words than the stack holds.' },
  { code: 2, name: 'stack-overflow', doc: 'A push would go past the end of the stack page.' },
  { code: 3, name: 'division-by-zero', doc: 'DIV or MOD by zero.' },
  {
    code: 4,
    name: 'rights-violation',
    doc: 'The key does not permit the operation (for example a write through a read-only key).',
  },
  { code: 5, name: 'null-key', doc: 'The slot holds the null key, or a key made void by revocation or use.' },
  { code: 6, name: 'wrong-kind', doc: 'The key or page is of the wrong kind for the operation.' },
  { code: 7, name: 'out-of-bounds', doc: 'An index or slot number outside the page.' },
  { code: 8, name: 'out-of-memory', doc: 'The memory meter cannot pay for the page or the growth.' },
  {
    code: 9,
    name: 'bad-opcode',
    doc: 'The code word is not an instruction, or its immediate runs past the code.',
  },
  { code: 10, name: 'bad-argument', doc: 'An operand is outside what the instruction accepts.' },
  { code: 11, name: 'out-of-gas', doc: 'A time meter without a keeper ran out.' },
  { code: 12, name: 'busy', doc: 'The domain called, forked or resumed is not in a state to accept it.' },
] as const);

export type FaultName = (typeof FAULT_TABLE)[number]['name'];
export type FaultNumber = (typeof FAULT_TABLE)[number]['code'];

/** Fault numbers by name, e.g. `Fault['null-key'] === 5`. */
export const Fault = Object.freeze(Object.fromEntries(FAULT_TABLE.map((f) => [f.name, f.code]))) as {
  readonly [F in (typeof FAULT_TABLE)[number] as F['name']]: F['code'];
};

const byCode = new Map<number, (typeof FAULT_TABLE)[number]>(FAULT_TABLE.map((f) => [f.code, f]));

/** The fault name for a number, or undefined when it is not in the catalogue. */
export function faultName(code: number): FaultName | undefined {
  return byCode.get(code)?.name;
}

/** The brand every copy of @keyvm/core puts on GuestFault (a registered symbol: the same in each copy). */
const GUEST_FAULT = Symbol.for('@keyvm/core:GuestFault');

/**
 * A rule broken by a guest operation. Thrown by the store; the interpreter turns
 * it into a domain fault. The operation that threw has changed nothing.
 *
 * `e instanceof GuestFault` checks a brand rather than the prototype chain, so it
 * holds across two copies of this package (an interpreter and an image each with
 * their own @keyvm/core, as npm lays out diverging versions).
 */
export class GuestFault extends Error {
  static override [Symbol.hasInstance](value: unknown): value is GuestFault {
    return (
      typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[GUEST_FAULT] === true
    );
  }
  override readonly name = 'GuestFault';
  readonly fault: FaultName;
  constructor(fault: FaultName, message: string) {
    super(message);
    this.fault = fault;
  }
  /** The numeric code from the catalogue. */
  get code(): FaultNumber {
    return Fault[this.fault];
  }
}

Object.defineProperty(GuestFault.prototype, GUEST_FAULT, { value: true });

/** Shorthand used across the store: throw a GuestFault. */
export function fail(fault: FaultName, message: string): never {
  throw new GuestFault(fault, message);
}
