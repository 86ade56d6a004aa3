// Every examples/*.kl program compiles and runs with the outcome it describes, with
// the JIT off, on and eager; each opens with a comment saying what it shows.
import { readdirSync, readFileSync } from 'node:fs';
import { Machine } from '@keyvm/interpreter';
import { describe, expect, it } from 'vitest';
import { compile } from './compile.js';

const EXAMPLES = new URL('../../../examples/', import.meta.url);

const EXPECTED: Record<string, { output: string; stack?: number[] }> = {
  'fizzbuzz.kl': {
    output: '1\n2\nFizz\n4\nBuzz\nFizz\n7\n8\nFizz\nBuzz\n11\nFizz\n13\n14\nFizzBuzz\n',
    stack: [],
  },
  'fib.kl': { output: 'fib 0 = 0\nfib 5 = 5\nfib 10 = 55\nfib 15 = 610\nfib 20 = 6765\n' },
  'sieve.kl': { output: 'primes up to 100 : 25\n' },
  'counter.kl': {
    output: [
      'client: add 1 -> 1',
      'client: add 2 -> 3',
      'client: add 3 -> 6',
      'client: add 4 -> 10',
      'client: add 5 -> 15',
      "main: the client's total is 15",
      'main: the counter agrees: 15',
      '',
    ].join('\n'),
  },
  'sandbox.kl': {
    output: [
      'parent: calling the child',
      'child:  the secret is 42',
      'child:  looking past the end of my read-only page...',
      'keeper: the child faulted with code 7 - answering its caller',
      'parent: the call came back with fault code 7',
      "parent: the child's meter has 14513 left; the secret is still 42",
      '',
    ].join('\n'),
    stack: [7],
  },
  'meter-keeper.kl': {
    output: 'worker: 1 + ... + 1000 = 500500\nsame as unmetered: true\n',
    stack: [500500],
  },
  'revocation.kl': {
    output: [
      'reader: key kind 2 reads 1984',
      "main:   severed the diary; main's fresh key still reads 1984",
      'reader: key kind 0 (null: the key is void)',
      '',
    ].join('\n'),
  },
};

describe('examples/*.kl', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.kl'));

  it('has an expectation for every example, and each opens with what it shows', () => {
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const f of files)
      expect(readFileSync(new URL(f, EXAMPLES), 'utf8')).toMatch(new RegExp(`^# ${f} - \\S`));
  });

  for (const [name, want] of Object.entries(EXPECTED)) {
    for (const jit of [false, true, 'eager'] as const) {
      it(`${name} (JIT ${jit})`, () => {
        const { program } = compile(readFileSync(new URL(name, EXAMPLES), 'utf8'), { file: name });
        const m = Machine.boot(program, { jit, stackSize: 4096 });
        const r = m.run();
        expect(r.status).toBe('halted');
        expect(m.output).toBe(want.output);
        if (want.stack !== undefined) expect(m.stack()).toEqual(want.stack);
      });
    }
  }
});
