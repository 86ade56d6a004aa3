// The KeyVM language through the real command: run a .kl file, build it into a
// .kvm program, show the annotated assembly, and report diagnostics (exit 4).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, EXAMPLES, keyvm, keyvmJson, tempDir } from './spawn.test-helpers.js';

beforeAll(assertBuilt);

describe('keyvm and .kl sources', () => {
  it('run compiles and runs a language source', async () => {
    const r = await keyvm(['run', join(EXAMPLES, 'fizzbuzz.kl')]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').slice(0, 5)).toEqual(['1', '2', 'Fizz', '4', 'Buzz']);
    expect(r.stderr).toMatch(/^halted after/);
  });

  it('build writes a .kvm program that runs the same; --emit asm shows annotated assembly', async () => {
    const dir = tempDir();
    const src = join(dir, 'prog.kl');
    writeFileSync(src, 'def sq(int x) -> (int):\n    return x * x\nvar int y = sq(7)\nprint(y)\n');
    const b = await keyvm(['build', src]);
    expect(b.code).toBe(0);
    expect(existsSync(join(dir, 'prog.kvm'))).toBe(true);
    const r = await keyvmJson(['run', join(dir, 'prog.kvm')]);
    expect(r.json.output).toBe('49\n');
    expect(r.json.stack).toEqual([49]);
    const out = join(dir, 'other.kvm');
    expect((await keyvm(['build', src, '-o', out])).code).toBe(0);
    expect(readFileSync(out)).toEqual(readFileSync(join(dir, 'prog.kvm')));
    const asm = await keyvm(['build', src, '--emit', 'asm']);
    expect(asm.code).toBe(0);
    expect(asm.stdout).toContain(`; ${src}:2: return x * x`);
    expect(asm.stdout).toMatch(/^f_sq:$/m);
    expect(asm.stdout).toMatch(/^ +PICK \d+$/m);
  });

  it('imports read files beside the importing one', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'lib.kl'), 'def twice(int x) -> (int):\n    return x + x\n');
    writeFileSync(join(dir, 'main.kl'), 'import \x22lib\x22\nprint(twice(21))\n');
    const r = await keyvmJson(['run', join(dir, 'main.kl')]);
    expect(r.json.output).toBe('42\n');
  });

  it('diagnostics: every error, file:line:col, exit 4; a fault names the source line and function', async () => {
    const dir = tempDir();
    const bad = join(dir, 'bad.kl');
    writeFileSync(bad, 'var bool b = 1\nprnt(b)\n');
    const r = await keyvm(['run', bad]);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(
      `${bad}:1:14: error: expected bool, got int\nvar bool b = 1\n             ^\n` +
        `${bad}:2:1: error: 'prnt' is not declared (did you mean 'print'?)\nprnt(b)\n^\n`,
    );
    const div = join(dir, 'div.kl');
    writeFileSync(div, 'def half(int a, int b) -> (int):\n    return a / b\nprint(half(1, 0))\n');
    const f = await keyvm(['run', div]);
    expect(f.code).toBe(1);
    expect(f.stderr).toMatch(
      new RegExp(`^fault: division-by-zero at pc \\d+ \\(${div.replace(/[.]/g, '\\.')}:2, in half\\)`),
    );
  });

  it('build refuses what is not a .kl source, and a bad --emit (exit 2)', async () => {
    expect((await keyvm(['build', join(EXAMPLES, 'hello.ism')])).code).toBe(2);
    expect((await keyvm(['build', join(EXAMPLES, 'fib.kl'), '--emit', 'wasm'])).code).toBe(2);
  });
});
