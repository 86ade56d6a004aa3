// Conformance programs as data: every file in cases/ is assembly whose comments
// say what running it must give (`; expect: …`) and how to run it (`; gas: N`).
// One runner assembles, boots and runs each under every way the interpreter can
// run it (JIT off, on and eager × one-step transfers on and off × the default and a
// small borrow limit), checks every expectation in each, and checks that all of
// them end in the same machine (image bytes), result and console output.
import { assemble, type Program } from '@keyvm/assembler';
import { encodeImage } from '@keyvm/image';
import { Machine, type MachineOptions, type RunResult } from '@keyvm/interpreter';
import { describe, expect, it } from 'vitest';
import { CASES_DIR, type Case, listCases, parseCase } from './index.js';

const files = listCases();

/** A small borrow: the interpreter borrows from the meter chain again every 3 gas. */
const SMALL_BORROW = 3;

/** Every way to run a case: the copies of the semantics that must agree. */
const WAYS: readonly { readonly name: string; readonly options: MachineOptions }[] = (
  [false, true, 'eager'] as const
).flatMap((jit) =>
  [true, false].flatMap((fastTransfers) =>
    [undefined, SMALL_BORROW].map((borrowLimit) => ({
      name: `jit ${jit === 'eager' ? 'eager' : jit ? 'on' : 'off'}, one-step transfers ${fastTransfers ? 'on' : 'off'}, borrow ${borrowLimit ?? 'default'}`,
      options: { jit, fastTransfers, ...(borrowLimit === undefined ? {} : { borrowLimit }) },
    })),
  ),
);

/** Check every expectation of case `c` against one run. */
function checkExpectations(c: Case, way: string, machine: Machine, r: RunResult): void {
  for (const { what, value, line } of c.expectations) {
    const where = `${c.file}:${line} (${way}): expect ${what} ${value}`;
    switch (what) {
      case 'status':
        expect(r.status, where).toBe(value);
        break;
      case 'stack':
        expect(machine.stack(), where).toEqual(JSON.parse(value));
        break;
      case 'depth':
        expect(machine.stack().length, where).toBe(Number(value));
        break;
      case 'steps':
        expect(r.steps, where).toBe(Number(value));
        break;
      case 'gas':
        expect(r.gasUsed, where).toBe(Number(value));
        break;
      case 'output':
        expect(machine.output, where).toBe(JSON.parse(value));
        break;
      case 'fault': {
        const [, code, pc] = /^(\S+)\s+at\s+(\d+)$/.exec(value) ?? [];
        expect(r.fault?.code, where).toBe(code);
        expect(r.fault?.pc, where).toBe(Number(pc));
        break;
      }
      default:
        throw new Error(`${where}: unknown expectation '${what}'`);
    }
  }
}

describe('conformance programs (cases/*.ism)', () => {
  it('has cases, each with expectations', () => {
    expect(files.length).toBeGreaterThan(20);
    for (const f of files) expect(parseCase(CASES_DIR, f).expectations.length, f).toBeGreaterThan(0);
  });

  it('runs each case in twelve ways', () => {
    expect(WAYS).toHaveLength(12);
    expect(new Set(WAYS.map((w) => w.name)).size).toBe(12);
  });

  for (const file of files)
    it(`${file}: every way meets its expectations and ends in the same machine`, () => {
      const c = parseCase(CASES_DIR, file);
      const program: Program = assemble(c.source, { file });
      let first: { way: string; r: RunResult; output: string; image: Buffer } | undefined;
      for (const { name, options } of WAYS) {
        const machine = Machine.boot(program, c.gas === undefined ? options : { ...options, time: c.gas });
        const r = machine.run();
        checkExpectations(c, name, machine, r);
        const end = { way: name, r, output: machine.output, image: Buffer.from(encodeImage(machine.store)) };
        if (first === undefined) first = end;
        else {
          expect(end.r, `${file} (${name}) vs (${first.way}): result`).toEqual(first.r);
          expect(end.output, `${file} (${name}) vs (${first.way}): output`).toBe(first.output);
          expect(end.image.equals(first.image), `${file} (${name}) vs (${first.way}): image bytes`).toBe(
            true,
          );
        }
      }
    });
});
