// The Anoma provable-VM interface (prove / verify) for KeyVM, as a *transparent*
// proof system: sound and complete, but not zero-knowledge. The proof names the
// relation, carries both inputs and the exact gas; verify re-runs it under its own bound.
import { sha256 } from '@noble/hashes/sha2.js';
import { evaluate } from './evaluate.js';
import type { Program } from './machine.js';

/** Names this proof system so a verifier never mistakes it for a succinct one (v2: binds relation and inputs). */
export const PROOF_SYSTEM = 'keyvm-transparent-v2';

/** Gas `verify` allows a re-run when the verifier does not say: a proof asking for more is refused unrun. */
export const DEFAULT_VERIFY_GAS = 10_000_000;
/** Private words `verify` accepts when the verifier does not say (the relation's stack must hold them). */
export const DEFAULT_MAX_PRIVATE_WORDS = 65_536;

/** A transparent proof: it reveals the private input (no zero knowledge). */
export interface Proof {
  readonly system: typeof PROOF_SYSTEM;
  /** sha256 (hex) of the relation's code and data words: the relation this proof is about. */
  readonly relation: string;
  /** The public input (statement) the proof is about, exactly. */
  readonly publicInput: readonly number[];
  /** The private input (witness) the relation accepted, exactly. */
  readonly privateInput: readonly number[];
  /** Gas the accepting evaluation used: verify re-runs with exactly this limit. */
  readonly gasUsed: number;
}

export interface VerifyOptions {
  /** Most gas the verifier spends re-running the relation (default DEFAULT_VERIFY_GAS). */
  readonly maxGas?: number;
  /** Most private words the verifier accepts (default DEFAULT_MAX_PRIVATE_WORDS). */
  readonly maxPrivateWords?: number;
  /** When set, the exact number of private words the relation takes; any other length is refused. */
  readonly privateWords?: number;
}

/** Thrown by `prove` when the relation does not accept the inputs: there is no proof to make. */
export class NoProofError extends Error {
  override readonly name = 'NoProofError';
}

const isWord = (w: unknown): w is number =>
  typeof w === 'number' && Number.isInteger(w) && w >= -(2 ** 31) && w < 2 ** 31;

const firstNonWord = (words: readonly unknown[]): number => {
  for (let i = 0; i < words.length; i++) if (!isWord(words[i])) return i;
  return -1;
};

const hex = (bytes: Uint8Array): string => {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
};

/**
 * The relation's identity: sha256 over a tag, the code length and words, the data
 * length and words (32-bit little-endian). Two programs differing in any word or
 * length get different digests.
 */
export function relationDigest(relation: Program): string {
  const code = Int32Array.from(relation.code);
  const data = Int32Array.from(relation.data ?? []);
  const tag = new TextEncoder().encode('keyvm-relation-v1\0');
  const bytes = new Uint8Array(tag.length + 8 + 4 * (code.length + data.length));
  bytes.set(tag);
  const view = new DataView(bytes.buffer);
  let at = tag.length;
  view.setUint32(at, code.length, true);
  at += 4;
  for (const w of code) {
    view.setInt32(at, w, true);
    at += 4;
  }
  view.setUint32(at, data.length, true);
  at += 4;
  for (const w of data) {
    view.setInt32(at, w, true);
    at += 4;
  }
  return hex(sha256(bytes));
}

/**
 * A relation accepts when evaluate(relation, [...public, ...private]) halts with
 * exactly one word, 1, on its stack: it must consume every input word, so a word
 * added to or removed from either input changes what it sees and is never ignored.
 */
const accepts = (r: ReturnType<typeof evaluate>): boolean =>
  r.status === 'halted' && r.result !== undefined && r.result.length === 1 && r.result[0] === 1;

const describeRefusal = (r: ReturnType<typeof evaluate>): string => {
  if (r.status !== 'halted') return r.fault ? `${r.status}: ${r.fault.code}` : r.status;
  const stack = r.result ?? [];
  if (stack.length !== 1) return `it halted with ${stack.length} words on its stack, not exactly one`;
  return `it halted with ${stack[0]}, not 1`;
};

/**
 * Prove that `relation` accepts `publicInput` with `privateInput` (Anoma's prove:
 * relation (T0 -> T1 -> boolean), private T0, public T1). Every word must be a
 * 32-bit integer (RangeError otherwise). Throws NoProofError when the relation does
 * not accept within `gasLimit`.
 */
export function prove(
  relation: Program,
  publicInput: readonly number[],
  privateInput: readonly number[],
  gasLimit: number,
): Proof {
  for (const [what, words] of [
    ['public', publicInput],
    ['private', privateInput],
  ] as const) {
    const bad = firstNonWord(words);
    if (bad >= 0)
      throw new RangeError(`${what} input word ${bad} is ${String(words[bad])}, not a 32-bit integer`);
  }
  if (!Number.isSafeInteger(gasLimit) || gasLimit < 0)
    throw new RangeError(`gas limit must be a whole number >= 0, got ${gasLimit}`);
  const r = evaluate(relation, [...publicInput, ...privateInput], gasLimit);
  if (!accepts(r))
    throw new NoProofError(`the relation does not accept these inputs (${describeRefusal(r)})`);
  return {
    system: PROOF_SYSTEM,
    relation: relationDigest(relation),
    publicInput: [...publicInput],
    privateInput: [...privateInput],
    gasUsed: r.gasUsed,
  };
}

const sameWords = (a: readonly number[], b: readonly unknown[]): boolean =>
  a.length === b.length && a.every((w, i) => w === b[i]);

const bound = (value: number | undefined, fallback: number, what: string): number => {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`${what} must be a whole number >= 0, got ${n}`);
  return n;
};

/**
 * Verify a proof for `relation` and `publicInput`: true exactly when the proof is
 * about this relation and these public words, its private words make the relation
 * accept, and the re-run uses exactly the proof's gas, which must be within the
 * verifier's `maxGas`. The verifier's bounds are checked before anything runs.
 * Malformed proofs are false, never exceptions; bad options are a RangeError.
 */
export function verify(
  relation: Program,
  publicInput: readonly number[],
  proof: unknown,
  options: VerifyOptions = {},
): boolean {
  const maxGas = bound(options.maxGas, DEFAULT_VERIFY_GAS, 'maxGas');
  const maxPrivate = bound(options.maxPrivateWords, DEFAULT_MAX_PRIVATE_WORDS, 'maxPrivateWords');
  const exactPrivate =
    options.privateWords === undefined ? undefined : bound(options.privateWords, 0, 'privateWords');
  if (firstNonWord(publicInput) >= 0) return false;
  if (typeof proof !== 'object' || proof === null) return false;
  const p = proof as Partial<Record<keyof Proof, unknown>>;
  if (p.system !== PROOF_SYSTEM) return false;
  if (typeof p.gasUsed !== 'number' || !Number.isSafeInteger(p.gasUsed) || p.gasUsed < 0) return false;
  if (p.gasUsed > maxGas) return false;
  if (!Array.isArray(p.publicInput) || !sameWords(publicInput, p.publicInput)) return false;
  if (!Array.isArray(p.privateInput) || p.privateInput.length > maxPrivate) return false;
  if (exactPrivate !== undefined && p.privateInput.length !== exactPrivate) return false;
  if (firstNonWord(p.privateInput) >= 0) return false;
  if (typeof p.relation !== 'string' || p.relation !== relationDigest(relation)) return false;
  const r = evaluate(relation, [...publicInput, ...(p.privateInput as number[])], p.gasUsed);
  return accepts(r) && r.gasUsed === p.gasUsed;
}
