// Breakpoints on source lines through the source map; step over, step out, run to a
// breakpoint forwards and backwards, run to cursor.
import { assemble } from '@keyvm/assembler';
import { Machine } from '@keyvm/interpreter';
import { describe, expect, it } from 'vitest';
import { Breakpoints, SourceLines } from './breakpoints.js';
import { History, locate } from './history.js';
import { runBackward, runForward, runTo, stepOut, stepOver } from './stepping.js';

const LOOP = `; counts to 3
        PUSH 0
loop:   add(1)
        DUP
        PUSH :loop
        SWAP
        lt(3)
        JUMPIF
        HALT
`;

function session(src: string) {
  const program = assemble(src);
  const h = new History({ origin: () => Machine.boot(program, { time: 100_000 }), interval: 4 });
  const lines = new SourceLines(program.sourceMap);
  const bp = new Breakpoints();
  bp.bind(lines, locate(h.machine)!.codePage);
  return { program, h, lines, bp };
}

describe('SourceLines', () => {
  it('maps lines to pcs and back', () => {
    const { lines } = session(LOOP);
    expect(lines.pcsOf(2)).toEqual([0]);
    expect(lines.lineOf(0)).toBe(2);
    expect(lines.lineOf(1)).toBe(2); // an immediate belongs to its instruction's line
    expect(lines.nearestCodeLine(1)).toBe(2);
    expect(lines.pcsOf(3).length).toBe(2); // add(1): PUSH 1, ADD
    expect(lines.nearestCodeLine(99)).toBeUndefined();
  });
});

describe('breakpoints', () => {
  it('a run stops at each hit of a breakpoint, and runs back to the previous one', () => {
    const { h, lines, bp } = session(LOOP);
    expect(bp.toggleLine(4)).toBe(4); // DUP
    const dup = lines.pcsOf(4)[0]!;
    const hits: number[] = [];
    for (;;) {
      const r = runForward(h, 1000, bp);
      if (r.reason !== 'condition') break;
      expect(locate(h.machine)!.pc).toBe(dup);
      hits.push(h.position);
    }
    expect(hits.length).toBe(3);
    expect(h.machine.stack()).toEqual([3]);
    expect(runBackward(h, bp)).toBe(hits[2]);
    expect(runBackward(h, bp)).toBe(hits[1]);
    expect(h.machine.stack()).toEqual([2]);
    expect(runBackward(h, bp)).toBe(hits[0]);
    expect(runBackward(h, bp)).toBe(0);
    bp.toggleLine(4);
    expect(bp.size).toBe(0);
  });

  it('run to cursor stops at the first pc of a line', () => {
    const { h, lines } = session(LOOP);
    const r = runTo(h, locate(h.machine)!.codePage, lines.pcsOf(9), 1000);
    expect(r.reason).toBe('condition');
    expect(lines.lineOf(locate(h.machine)!.pc)).toBe(9);
  });
});

const CALLER = `
.const SELF 2
.const IP 4
.const CODE 5
.const STACK 7
        CREATEPAGE 15 1 1 28
        CREATEPAGE 16 0 1 16
        COPYKEY 15 STACK SELF 16
        COPYKEY 15 CODE SELF CODE
        COPYKEY 15 0 SELF 0
        NUMKEY 17 :callee
        COPYKEY 15 IP SELF 17
        MAKEDOMAIN 18 15
        CALLW 18 27 5
        add(100)
        HALT
callee: mul(2)
        PUSH 11
        SWAP
        PUSH 27
        SWAP
        RETURN
`;

describe('step over and step out', () => {
  it('step over a CALLW runs the callee and stops when the caller resumes', () => {
    const { h, lines, program } = session(CALLER);
    const callw = lines.pcsOf(14).at(-1)!;
    expect(program.code[callw]).toBe(38); // CALLW
    runTo(h, locate(h.machine)!.codePage, [callw], 1000);
    const root = locate(h.machine)!.domain;
    const r = stepOver(h, 1000);
    expect(r.reason).toBe('condition');
    expect(locate(h.machine)!.domain).toBe(root);
    expect(h.machine.stack()).toEqual([10]);
    expect(lines.lineOf(locate(h.machine)!.pc)).toBe(15);
  });

  it('step out of the callee stops in the caller', () => {
    const { h, lines } = session(CALLER);
    const root = locate(h.machine)!.domain;
    runTo(h, locate(h.machine)!.codePage, lines.pcsOf(17), 1000);
    const callee = locate(h.machine)!.domain;
    expect(callee).not.toBe(root);
    const r = stepOut(h, 1000);
    expect(r.reason).toBe('condition');
    expect(locate(h.machine)!.domain).toBe(root);
    expect(h.machine.stack()).toEqual([10]);
  });

  it('step over a plain instruction is one step', () => {
    const { h } = session(LOOP);
    expect(stepOver(h, 1000).steps).toBe(1);
    expect(h.position).toBe(1);
  });
});
