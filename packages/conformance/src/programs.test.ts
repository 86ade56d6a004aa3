// Conformance programs as data: every file in cases/ is assembly whose comments
// say what running it must give (`; expect: …`) and how to run it (`; gas: N`).
// One runner assembles, boots and runs each, and checks every expectation.
import { assemble } from '@keyvm/assembler';
import { Machine } from '@keyvm/interpreter';
import { describe, expect, it } from 'vitest';
import { CASES_DIR, listCases, parseCase } from './index.js';

const files = listCases();

describe('conformance programs (cases/*.ism)', () => {
  it('has cases, each with expectations', () => {
    expect(files.length).toBeGreaterThan(20);
    for (const f of files) expect(parseCase(CASES_DIR, f).expectations.length, f).toBeGreaterThan(0);
  });

  // Every case under each JIT mode: compiled code must never change a result.
  const modes = [
    ['jit off', false],
    ['jit on', true],
    ['jit eager', 'eager'],
  ] as const;
  for (const file of files)
    for (const [mode, jit] of modes) {
      it(`${file} (${mode})`, () => {
        const c = parseCase(CASES_DIR, file);
        const program = assemble(c.source, { file });
        const machine = Machine.boot(program, c.gas === undefined ? { jit } : { time: c.gas, jit });
        const r = machine.run();
        for (const { what, value, line } of c.expectations) {
          const where = `${file}:${line}: expect ${what} ${value}`;
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
      });
    }
});
