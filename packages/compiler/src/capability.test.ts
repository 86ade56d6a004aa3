// Capability property in source: a domain compiled from source reaches only the
// keys it was handed. Random programs hand a probe domain a random subset of the
// main program's pages (some read-only) and call it; the pages end as a model of
// the calls says, and every key in the probe's slots designates only what it was
// given, what it made, or its own machinery (code, stack, data, meters, message).
import { Machine } from '@keyvm/interpreter';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Slot } from './checker.js';
import { compile } from './compile.js';
import type { CompileError } from './diagnostics.js';

const SEED = Number(process.env.KEYVM_SEED ?? 20261206);
const PAGES = 4;
const KIND = { page: 2, rpage: 3 } as const;

interface Case {
  /** Per page: not handed, handed read-write, or handed read-only. */
  handed: ('no' | 'page' | 'rpage')[];
  calls: { poke: boolean; i: number; v: number }[];
}

const arbCase: fc.Arbitrary<Case> = fc.record({
  handed: fc.array(fc.constantFrom('no', 'page', 'rpage'), { minLength: PAGES, maxLength: PAGES }),
  calls: fc.array(fc.record({ poke: fc.boolean(), i: fc.nat(7), v: fc.integer({ min: -1000, max: 1000 }) }), {
    maxLength: 6,
  }),
});

function source(c: Case): string {
  const params = c.handed
    .map((h, i) => (h === 'no' ? undefined : `${h} k${i}`))
    .filter((x) => x !== undefined);
  const lines: string[] = [];
  lines.push(`domain Probe(${params.join(', ')}):`);
  lines.push('    def poke(int i, int v) -> (int):');
  lines.push('        var page mine = new_page(2)');
  lines.push('        mine[1] = v');
  c.handed.forEach((h, i) => {
    if (h === 'page') lines.push(`        k${i}[i % len(k${i})] = v + ${i}`);
  });
  lines.push('        return mine[1]');
  lines.push('    def peek() -> (int):');
  lines.push('        var int s = 0');
  c.handed.forEach((h, i) => {
    if (h !== 'no') lines.push(`        s = s + k${i}[0] + k${i}[${PAGES + 3}] + kind(k${i})`);
  });
  lines.push('        return s');
  for (let i = 0; i < PAGES; i++) {
    lines.push(`var page p${i} = new_page(8)`);
    lines.push(`p${i}[0] = ${100 * (i + 1)}`);
  }
  const args = c.handed
    .map((h, i) => (h === 'no' ? undefined : h === 'page' ? `p${i}` : `readonly(p${i})`))
    .filter((x) => x !== undefined);
  lines.push(`var Probe probe = spawn Probe(${args.join(', ')})`);
  for (const call of c.calls) {
    lines.push(call.poke ? `print(probe.poke(${call.i}, ${call.v}))` : 'print(probe.peek())');
  }
  lines.push(
    `print(${Array.from({ length: PAGES }, (_, i) => Array.from({ length: 8 }, (_, j) => `p${i}[${j}]`).join(', ')).join(', ')})`,
  );
  return `${lines.join('\n')}\n`;
}

/** What the program prints, by the model: pages change only where handed read-write. */
function model(c: Case): string {
  const pages = Array.from({ length: PAGES }, (_, i) => {
    const words = new Array<number>(8).fill(0);
    words[0] = 100 * (i + 1);
    return words;
  });
  let out = '';
  for (const call of c.calls) {
    if (call.poke) {
      c.handed.forEach((h, i) => {
        if (h === 'page') pages[i]![call.i % 8] = call.v + i;
      });
      out += `${call.v}\n`;
    } else {
      let s = 0;
      c.handed.forEach((h, i) => {
        if (h !== 'no') s += pages[i]![0]! + pages[i]![PAGES + 3]! + KIND[h];
      });
      out += `${s}\n`;
    }
  }
  return `${out}${pages.flat().join(' ')}\n`;
}

describe('a domain compiled from source reaches only the keys it was handed', () => {
  it('pages change as the model says; the probe holds keys only to what it was given or made', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const { program } = compile(source(c), { file: 'probe.kl' });
        const m = Machine.boot(program, { stackSize: 1024 });
        const r = m.run();
        expect(r.status).toBe('halted');
        expect(m.output).toBe(model(c));
        const root = m.domain(m.rootDomain);
        const probe = m.domains().find((d) => d.id !== m.rootDomain)!;
        // Main's pages p0..p3 are in consecutive variable slots; the probe's view of them:
        const mainTargets = new Map<number, number>(); // target -> page index
        // (each in its variable's slot and the temporary new_page made it in: the distinct
        // targets in slot order are p0..p3)
        for (const [slot, k] of root.slots.entries()) {
          if (slot >= Slot.FIRST_FREE && k.kind === KIND.page && !mainTargets.has(k.target))
            mainTargets.set(k.target, mainTargets.size);
        }
        expect(mainTargets.size).toBe(PAGES);
        const allowed = new Set<number>([
          m.rootDomain, // its resume key to the caller
          ...[Slot.CODE, Slot.MSG_OUT, Slot.ARGS_OUT, Slot.TIME, Slot.MEMORY].map(
            (s) => root.slots[s]!.target,
          ),
        ]);
        for (const [slot, key] of probe.slots.entries()) {
          if (key.kind === 0 || key.kind === 1) continue; // null and number keys designate nothing
          const page = mainTargets.get(key.target);
          if (page !== undefined) {
            // One of main's pages: only if handed, and never stronger than handed.
            expect(c.handed[page], `slot ${slot}`).not.toBe('no');
            if (c.handed[page] === 'rpage') expect(key.kind, `slot ${slot}`).toBe(KIND.rpage);
            continue;
          }
          if (allowed.has(key.target)) continue;
          // Anything else must be the probe's own: made for it or by it, unknown to main.
          const mainHolds = root.slots.some((k) => k.kind !== 0 && k.kind !== 1 && k.target === key.target);
          expect(mainHolds && slot !== Slot.SELF, `slot ${slot} reaches main's object #${key.target}`).toBe(
            false,
          );
        }
      }),
      { seed: SEED, numRuns: 150 },
    );
  }, 30_000);

  it('refuses to forge: no expression turns an int into a key or a key into an int', () => {
    for (const bad of [
      'var page p = 5\n',
      'var int x = new_page(1)\n',
      'var page p = new_page(1)\nvar int x = p + 1\n',
      'var rpage r = new_page(1)\n',
      'var page p = readonly(new_page(1))\n',
      'var page p = new_page(1)\nprint(p)\n',
    ]) {
      let message = '';
      try {
        compile(bad);
      } catch (e) {
        message = (e as CompileError).format();
      }
      expect(message, bad).toMatch(/error: (expected \w+, got|\+ needs int and int, got page|print shows)/);
    }
  });
});
