// Hostile text all the way through: whatever the input, the assembler either
// assembles it or throws an AssemblyError with diagnostics (malformed input, exit 4
// in the CLI), and whatever it assembles runs to an outcome without the machine
// throwing (no internal error, exit 70, is reachable from a guest program).
import { AssemblyError, assemble } from '@keyvm/assembler';
import { Machine } from '@keyvm/interpreter';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const seed = Number(process.env.KEYVM_SEED ?? 20261121);

const token = fc.constantFrom(
  'add',
  'sub(',
  ')',
  '(',
  ',',
  ':',
  ':x',
  'x:',
  '.data',
  '.zero',
  '.const',
  '.string',
  '.word',
  '"a"',
  '"\\u{zz}"',
  '0x',
  '0b2',
  '0o8',
  '-',
  '99999999999',
  '1e3',
  ';',
  '\n',
  ' ',
  '\t',
  '\\',
  '"',
  'PUSH',
  'jumpif',
  'halt',
  'call',
  'N',
  'é',
  '\u0000',
  '7',
  ':loop',
  'loop:',
  'createpage(15,0,1,3)',
  'makedomain(16,15)',
);

describe('robustness: arbitrary text through the assembler and the machine', () => {
  it('assembles or reports diagnostics, and what assembles runs to an outcome', () => {
    console.log(`robustness: seed ${seed}`);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 80 }),
          fc.array(token, { maxLength: 40 }).map((t) => t.join('')),
        ),
        (source) => {
          let program: ReturnType<typeof assemble>;
          try {
            program = assemble(source, { file: 'fuzz.ism' });
          } catch (e) {
            if (!(e instanceof AssemblyError)) throw e;
            expect(e.diagnostics.length).toBeGreaterThan(0);
            expect(e.format()).toContain('fuzz.ism:');
            return;
          }
          const r = Machine.boot(program, { time: 2000 }).run();
          expect(['halted', 'fault', 'out-of-gas', 'waiting']).toContain(r.status);
        },
      ),
      { seed, numRuns: 5000 },
    );
  });
});
