// The lines of `--trace`: EIP-3155 JSON objects (jsonl) and aligned text, and the
// jsonl summary. Kept apart from the tracer's plumbing (streams, flushing).
import type { FaultInfo, StepInfo } from '@keyvm/interpreter';

/** Widest domain column: `#` and the largest object id (2^24, 8 digits). */
const DOMAIN_WIDTH = 9;
/** Widest pc column: a code page's offsets (up to 2^24 words, 8 digits) and a colon. */
const PC_WIDTH = 9;

/**
 * One step as EIP-3155 has it (its required fields in its order, `error` only on
 * the faulting step), then KeyVM's own (`domain`, and `instruction`: the
 * instruction as the disassembler writes it, e.g. `PUSH 10`, when given). `memSize`
 * is the running domain's data page, in words; `refund` is always 0 (KeyVM refunds
 * no gas). A stack deeper than 32 words is bounded: its bottom and top 16 words in
 * `stack`, and `stackOmitted` (right after it), the words left out between them.
 */
export function jsonlStep(s: StepInfo, memSize: number, error?: string, instruction?: string): string {
  const err = error === undefined ? '' : `,"error":${JSON.stringify(error)}`;
  const more = s.stackOmitted > 0 ? `,"stackOmitted":${s.stackOmitted}` : '';
  const text = instruction === undefined ? '' : `,"instruction":${JSON.stringify(instruction)}`;
  return `{"pc":${s.pc},"op":${s.op},"gas":${s.gas},"gasCost":${s.gasCost},"memSize":${memSize},"stack":[${s.stack.join(',')}]${more},"depth":${s.depth},"refund":0,"opName":${JSON.stringify(s.opName)}${err},"domain":${s.domain}${text}}\n`;
}

/** The `error` of the step a fault stopped the run at: the catalogue name and the message. */
export const faultError = (f: FaultInfo): string => `${f.code}: ${f.message}`;

/** The fault as every report gives it. */
export const faultFields = (f: FaultInfo): Record<string, unknown> => ({
  code: f.code,
  message: f.message,
  pc: f.pc,
  domain: f.domain,
  number: f.number,
});

/**
 * One text line: step count, domain, pc, the instruction (as `disassembleInstruction`
 * writes it), gas, call depth and stack, in fixed columns.
 */
export function textStep(count: number, s: StepInfo, instruction: string, stack: string): string {
  const domain = `#${s.domain}`.padEnd(DOMAIN_WIDTH);
  const pc = `${String(s.pc).padStart(4, '0')}:`.padEnd(PC_WIDTH);
  const depth = s.depth > 1 ? ` depth ${s.depth}` : '';
  return `${String(count).padStart(6)}  ${domain} ${pc} ${instruction.padEnd(18)} gas ${s.gas}${depth}  ${stack}\n`;
}
