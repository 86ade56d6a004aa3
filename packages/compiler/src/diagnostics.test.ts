// Diagnostics as a user sees them (file:line:col, the line, a caret, "did you
// mean", both types named) and the source map down to the instruction.
import { Machine } from '@keyvm/interpreter';
import { describe, expect, it } from 'vitest';
import { compile } from './compile.js';
import { COMPILE_ERROR_CODES, CompileError } from './diagnostics.js';

function errors(source: string): CompileError {
  try {
    compile(source, { file: 'prog.kl' });
  } catch (e) {
    if (e instanceof CompileError) return e;
    throw e;
  }
  throw new Error('compiled');
}

describe('diagnostics', () => {
  it('show file:line:col, the line and a caret, and suggest a near name', () => {
    const e = errors('def square(int x) -> (int):\n    return x * x\nprint(sqaure(3))\n');
    expect(e.format()).toBe(
      "prog.kl:3:7: error: 'sqaure' is not declared (did you mean 'square'?)\nprint(sqaure(3))\n      ^",
    );
  });

  it('name both types of a mismatch', () => {
    expect(errors('var bool b = 1 + 2\n').format()).toContain('expected bool, got int');
    expect(errors('var int x = 1 + true\n').format()).toContain('+ needs int and int, got int and bool');
    expect(errors('var bool b = 1 == true\n').format()).toContain('not int and bool');
  });

  it('each phase reports with its own codes', () => {
    const cases: [string, string][] = [
      ['var int x = 1 $ 2\n', 'bad-character'],
      ['print("open\n', 'bad-string'],
      ['var int x = 99999999999\n', 'bad-number'],
      ['if true:\n    pass\n  pass\n', 'bad-indent'],
      ['var int = 3\n', 'syntax'],
      ['var int x = 1\nvar int x = 2\n', 'duplicate-name'],
      ['def f(int a) -> (int):\n    return a\nprint(f())\n', 'wrong-arguments'],
      ['const int N = 1\nN = 2\n', 'not-assignable'],
      ['def f() -> (int):\n    pass\n', 'missing-return'],
      ['return 1\n', 'misplaced'],
      ['var int n = 1\nconst int M = n\n', 'not-constant'],
      ['import \x22nowhere\x22\n', 'bad-import'],
    ];
    for (const [source, code] of cases) {
      const e = errors(source);
      expect(
        e.diagnostics.map((d) => d.code),
        source,
      ).toContain(code);
      const d = e.diagnostics.find((x) => x.code === code)!;
      expect(d.phase).toBe(COMPILE_ERROR_CODES[d.code].phase);
    }
  });

  it('a domain function cannot see main, and print needs a console key', () => {
    expect(errors('var int secret = 1\ndef f() -> (int):\n    return secret\n').format()).toContain(
      "'secret' is a variable of the main program",
    );
    expect(errors('domain D:\n    def f():\n        print(1)\n').format()).toContain('has no console');
  });

  it('imports go through the resolver the embedder gives', () => {
    const lib = 'const int ANSWER = 42\ndef twice(int x) -> (int):\n    return 2 * x\n';
    const { program } = compile('import \x22lib\x22\nprint(twice(ANSWER))\n', {
      file: 'main.kl',
      resolve: (path) => (path === 'lib' ? { file: 'lib.kl', source: lib } : undefined),
    });
    const m = Machine.boot(program);
    m.run();
    expect(m.output).toBe('84\n');
  });
});

describe('source maps', () => {
  it('map every instruction to its source line and function; a fault points at its line', () => {
    const source =
      'def div(int a, int b) -> (int):\n    return a / b\n\nprint(div(7, 2))\nprint(div(1, 0))\n';
    const { program, sourceMap, assembly } = compile(source, { file: 'div.kl' });
    expect(sourceMap.length).toBe(program.sourceMap.length);
    const m = Machine.boot(program);
    const r = m.run();
    expect(r.status).toBe('fault');
    const at = sourceMap.find((s) => s.pc === r.fault!.pc)!;
    expect(at).toMatchObject({ file: 'div.kl', line: 2, function: 'div' });
    expect(program.labels.map((l) => l.name)).toContain('f_div');
    expect(assembly).toContain('; div.kl:2: return a / b');
  });
});
