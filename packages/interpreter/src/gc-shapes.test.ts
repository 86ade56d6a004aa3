// Compiled code keeps its optimised form across major GCs: the process keeps one tiny
// machine alive (`shapeKeeper` in machine.ts), so V8 never collects the hidden classes
// (maps) of the engine's objects and never throws away optimised code that checks them.
// Checked on the built package in a spawned node with --trace-deopt (no timing involved).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Op } from '@keyvm/isa';
import { describe, expect, it } from 'vitest';

/**
 * Lines of V8's trace, after the script prints MEASURED, that say optimised code was
 * dropped because objects it embeds died (before it: Node's own start-up, whose
 * objects die at the first GC), and how many functions were optimised after it.
 * Optimisation runs on the main thread (--no-concurrent-recompilation), so what is
 * optimised when depends on the script alone, not on how loaded the machine is.
 */
const weakObjectDeopts = (script: string): { lines: string[]; optimised: number; stderr: string } => {
  const out = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--trace-deopt',
      '--trace-opt',
      '--no-concurrent-recompilation',
      '--input-type=module',
      '-e',
      script,
    ],
    { encoding: 'utf8' },
  );
  const after = (out.stdout.split('MEASURED\n')[1] ?? '').split('\n');
  return {
    lines: after.filter((l) => l.includes('for deoptimization, reason: weak objects')),
    optimised: after.filter((l) => l.startsWith('[completed compiling') && l.includes('(target TURBOFAN)'))
      .length,
    stderr: out.stderr,
  };
};

describe('compiled code across major GCs', () => {
  it('this V8 drops optimised code whose objects all died (the control: the check can see it)', () => {
    const control = `
      class Box { constructor() { this.a = 1; this.b = 2; } }
      function hot(o) { let s = 0; for (let i = 0; i < 1e5; i++) s += o.a + o.b; return s; }
      globalThis.gc();
      console.log('MEASURED');
      for (let r = 0; r < 3; r++) { let b = new Box(); for (let k = 0; k < 50; k++) hot(b); b = null; globalThis.gc(); }`;
    const r = weakObjectDeopts(control);
    expect(r.stderr).toBe('');
    expect(r.lines.length).toBeGreaterThanOrEqual(1);
  });

  it('a program run by machine after machine, each collected, keeps its optimised code (the built package)', () => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const N = 20_000;
    // A loop over a data page (compiled page access through PageViews, Store, KeyPage).
    // biome-ignore format: one instruction per group
    const code = [
      Op.PUSH, 12, Op.PUSH, 0, Op.PUSH, 1, Op.PUSH, N, Op.CREATEPAGE, Op.PUSH, N,
      // loop at 11: page[i-1] = i; i -= 1
      Op.DUP, Op.PUSH, 12, Op.PICK, 2, Op.PUSH, 1, Op.SUB, Op.PAGEWRITE,
      Op.PUSH, 1, Op.SUB, Op.DUP, Op.PUSH, 11, Op.SWAP, Op.JUMPIF, Op.HALT,
    ];
    const script = `
      const { Machine } = await import(${JSON.stringify(dist)});
      const run = () => {
        const m = Machine.boot({ code: [${code.join(',')}] }, { devices: false, quantum: 1 << 30, jit: 'eager' });
        const r = m.run();
        if (r.status !== 'halted') throw new Error(JSON.stringify(r));
      };
      globalThis.gc();
      console.log('MEASURED');
      for (let r = 0; r < 4; r++) { for (let i = 0; i < 100; i++) run(); globalThis.gc(); }`;
    const r = weakObjectDeopts(script);
    expect(r.stderr).toBe('');
    expect(r.optimised).toBeGreaterThanOrEqual(1); // there was optimised code to lose
    expect(r.lines).toEqual([]);
  });
});
