// The Anoma provable-VM interface (prove / verify) for KeyVM, as a *transparent*
// proof system: sound and complete, but not zero-knowledge. The proof carries the
// private input and the exact gas; verify re-runs the relation deterministically.
import { evaluate } from './evaluate.js';
import type { Program } from './machine.js';

/** Names this proof system so a verifier never mistakes it for a succinct one. */
export const PROOF_SYSTEM = 'keyvm-transparent-v1';

/** A transparent proof: it reveals the private input (no zero knowledge). */
export interface Proof {
  readonly system: typeof PROOF_SYSTEM;
  /** The private input (witness) the relation accepted. */
  readonly privateInput: readonly number[];
  /** Gas the accepting evaluation used: verify re-runs with exactly this limit. */
  readonly gasUsed: number;
}

/** Thrown by `prove` when the relation does not accept the inputs: there is no proof to make. */
export class NoProofError extends Error {
  override readonly name = 'NoProofError';
}

/**
 * A relation accepts when evaluate(relation, [...public, ...private]) halts with 1
 * on top of the stack. The relation reads its inputs from its stack (public words
 * deepest) and must know the lengths it expects.
 */
const accepts = (r: ReturnType<typeof evaluate>): boolean =>
  r.status === 'halted' && r.result !== undefined && r.result[r.result.length - 1] === 1;

/**
 * Prove that `relation` accepts `publicInput` with some private input (Anoma's
 * prove: relation (T0 -> T1 -> boolean), private T0, public T1). Throws
 * NoProofError when it does not accept within `gasLimit`.
 */
export function prove(
  relation: Program,
  publicInput: readonly number[],
  privateInput: readonly number[],
  gasLimit: number,
): Proof {
  const r = evaluate(relation, [...publicInput, ...privateInput], gasLimit);
  if (!accepts(r)) {
    const why =
      r.status === 'halted' ? `it halted with ${JSON.stringify(r.result?.slice(-1))} on top` : r.status;
    throw new NoProofError(`the relation does not accept these inputs (${why})`);
  }
  return { system: PROOF_SYSTEM, privateInput: [...privateInput], gasUsed: r.gasUsed };
}

/**
 * Verify a proof for `relation` and `publicInput`: true exactly when the proof's
 * private input makes the relation accept with the proof's gas. Malformed proofs
 * are false, never exceptions.
 */
export function verify(relation: Program, publicInput: readonly number[], proof: unknown): boolean {
  if (typeof proof !== 'object' || proof === null) return false;
  const p = proof as Partial<Proof>;
  if (p.system !== PROOF_SYSTEM || !Array.isArray(p.privateInput)) return false;
  if (!p.privateInput.every((w) => Number.isInteger(w) && w >= -(2 ** 31) && w < 2 ** 31)) return false;
  if (typeof p.gasUsed !== 'number' || !Number.isSafeInteger(p.gasUsed) || p.gasUsed < 0) return false;
  const r = evaluate(relation, [...publicInput, ...p.privateInput], p.gasUsed);
  return accepts(r) && r.gasUsed === p.gasUsed;
}
