// Where the platform refuses to compile code from strings (a Content Security Policy
// without 'unsafe-eval', Node's --disallow-code-generation-from-strings), the machine
// interprets instead, tells the embedder once, and ends exactly as with the JIT.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Machine } from './machine.js';
import { code, op } from './test-support.js';
import { snapshot } from './testing.test-helpers.js';

// A loop that counts 300 down to 0 (hot enough to compile), then halts.
const words = code(
  ...op('ADD', 300, 0), // 0..4: n
  'PUSH',
  1,
  'SUB', // 5..7: n-1  (loop start at 5)
  'DUP',
  'PUSH',
  5,
  'SWAP',
  'JUMPIF', // while n-1 != 0 go on
);

describe('JIT refused by the platform', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('interprets, reports the refusal once per machine, and tries to compile only once', () => {
    let constructed = 0;
    vi.stubGlobal(
      'Function',
      new Proxy(Function, {
        construct() {
          constructed++;
          throw new EvalError('Code generation from strings disallowed for this context');
        },
      }),
    );
    const told: Error[] = [];
    const refused = Machine.boot({ code: words }, { jit: 'eager', onJitRefused: (e) => told.push(e) });
    const second = Machine.boot({ code: words }, { onJitRefused: (e) => told.push(e) });
    const off = Machine.boot({ code: words }, { jit: false, onJitRefused: (e) => told.push(e) });
    const rRefused = refused.run();
    second.run();
    off.run();
    vi.unstubAllGlobals();

    expect(constructed).toBe(1);
    expect(told).toHaveLength(2);
    expect(told[0]).toBeInstanceOf(EvalError);
    expect(refused.jitRefused).toBe(told[0]);
    expect(second.jitRefused).toBe(told[0]);
    expect(off.jitRefused).toBeUndefined();

    // The same end state as a machine whose JIT ran.
    const compiled = Machine.boot({ code: words }, { jit: 'eager' });
    const rCompiled = compiled.run();
    expect(rRefused).toEqual(rCompiled);
    expect(rRefused.status).toBe('halted');
    expect(snapshot(refused)).toEqual(snapshot(compiled));
  });

  it('runs under node --disallow-code-generation-from-strings (the built package)', () => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      const { Machine } = await import(${JSON.stringify(dist)});
      let told = 0;
      const m = Machine.boot({ code: [${Array.from(words).join(',')}] }, { jit: 'eager', onJitRefused: () => told++ });
      const r = m.run();
      console.log(JSON.stringify({ status: r.status, steps: r.steps, told, refused: m.jitRefused?.name }));`;
    const out = spawnSync(
      process.execPath,
      ['--disallow-code-generation-from-strings', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    expect(out.stderr).toBe('');
    const result = JSON.parse(out.stdout);
    expect(result).toMatchObject({ status: 'halted', told: 1, refused: 'EvalError' });
    expect(result.steps).toBeGreaterThan(1000);
  });
});
