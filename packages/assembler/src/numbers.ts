// Integer literals: decimal, 0x hex, 0b binary, 0o octal, optionally negative,
// checked to fit a 32-bit word and wrapped to two's complement.

/** The smallest accepted literal, -2^31. */
export const WORD_MIN = -0x8000_0000;
/** The largest accepted literal, 2^32-1 (values from 2^31 wrap to negative words). */
export const WORD_MAX = 0xffff_ffff;

const LITERAL = /^(-?)(0x[0-9a-f]+|0b[01]+|0o[0-7]+|[0-9]+)$/i;

export type LiteralResult =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly problem: 'syntax' | 'range' };

/** Parses a literal into a signed 32-bit word. */
export function parseWordLiteral(text: string): LiteralResult {
  const match = LITERAL.exec(text);
  if (match === null) return { ok: false, problem: 'syntax' };
  const magnitude = BigInt(match[2]!);
  const value = match[1] === '-' ? -magnitude : magnitude;
  if (value < BigInt(WORD_MIN) || value > BigInt(WORD_MAX)) return { ok: false, problem: 'range' };
  return { ok: true, value: Number(BigInt.asIntN(32, value)) };
}
