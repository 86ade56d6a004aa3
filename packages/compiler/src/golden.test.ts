// Golden programs: test/golden/*.kl with their expected output (`# expect:` lines),
// final stack (`# stack:`) or fault (`# fault:`), run with the JIT off, on and eager.
import { readdirSync, readFileSync } from 'node:fs';
import { Machine } from '@keyvm/interpreter';
import { describe, expect, it } from 'vitest';
import { compile } from './compile.js';

const DIR = new URL('../test/golden/', import.meta.url);
const files = readdirSync(DIR).filter((f) => f.endsWith('.kl'));

function expectations(source: string) {
  const lines = source.split('\n');
  const output = lines.filter((l) => l.startsWith('# expect: ')).map((l) => `${l.slice(10)}\n`);
  const stack = lines.find((l) => l.startsWith('# stack: '));
  const fault = lines.find((l) => l.startsWith('# fault: '));
  return {
    output: output.join(''),
    stack: stack === undefined ? undefined : (JSON.parse(stack.slice(9)) as number[]),
    fault: fault?.slice(9),
  };
}

describe('golden programs', () => {
  it('exist', () => expect(files.length).toBeGreaterThan(5));
  for (const file of files) {
    const source = readFileSync(new URL(file, DIR), 'utf8');
    const want = expectations(source);
    for (const jit of [false, true, 'eager'] as const) {
      it(`${file} (JIT ${jit})`, () => {
        const { program } = compile(source, { file });
        const m = Machine.boot(program, { jit, stackSize: 4096, time: 10_000_000 });
        // Several runs of a paused machine let the JIT warm up and take over mid-program.
        let r = m.run({ maxSteps: 5000 });
        while (r.status === 'paused') r = m.run({ maxSteps: 5000 });
        expect(m.output).toBe(want.output);
        if (want.fault !== undefined) {
          expect(r.status).toBe('fault');
          expect(r.fault?.code).toBe(want.fault);
        } else expect(r.status).toBe('halted');
        if (want.stack !== undefined) expect(m.stack()).toEqual(want.stack);
      });
    }
  }
});
