// Flag rules through the real command: a qualifying flag without the flag it
// qualifies is a usage error, --save is checked before the run, limits say the
// limit, binary output is not written to a terminal, inspect names faults, and ops
// suggests names.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BIN, EXAMPLES, keyvm, keyvmJson, REPO, tempDir } from './spawn.test-helpers.js';

const HELLO = join(EXAMPLES, 'hello.ism');
let dir: string;

beforeAll(() => {
  assertBuilt();
  dir = tempDir();
});

describe.concurrent('flags that qualify another flag', () => {
  it.each([
    ['--trace-file', ['--trace-file', 'x.jsonl'], '--trace-file needs --trace'],
    ['--compress', ['--compress'], '--compress needs --save'],
    ['--output-limit', ['--output-limit', '5'], '--output-limit needs --json'],
  ])('%s alone is a usage error, before anything runs', async (_flag, args, message) => {
    const r = await keyvm(['run', HELLO, ...args]);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: `keyvm: ${message}\n` });
  });
});

describe.concurrent('--save is checked before the run', () => {
  it('a missing directory: exit 5 and nothing ran', async () => {
    const target = join(dir, 'no', 'such', 'a.kvmi');
    const r = await keyvm(['run', HELLO, '--save', target]);
    expect(r).toMatchObject({ code: 5, stdout: '' });
    expect(r.stderr).toBe(`keyvm: cannot write '${target}': no such file or directory (ENOENT)\n`);
  });

  it('a directory as the target: exit 5 and nothing ran', async () => {
    const r = await keyvm(['run', HELLO, '--save', dir]);
    expect(r).toMatchObject({ code: 5, stdout: '' });
    expect(r.stderr).toBe(`keyvm: cannot write '${dir}': is a directory (EISDIR)\n`);
  });

  // Run as another user when we are root (root may write anywhere).
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  it.skipIf(process.platform === 'win32')(
    'a directory we may not write: exit 5, nothing ran, nothing left',
    async () => {
      const where = realpathSync(mkdtempSync(join(tmpdir(), 'keyvm-cli-locked-')));
      chmodSync(where, 0o755);
      const locked = join(where, 'locked');
      mkdirSync(locked);
      chmodSync(locked, 0o555);
      try {
        const target = join(locked, 'a.kvmi');
        const r = await keyvm(['resume', '-', '--save', target], { ...asUser, input: 'not read' });
        expect(r).toMatchObject({ code: 5, stdout: '' });
        expect(r.stderr).toBe(
          `keyvm: cannot write '${target}': cannot create a temporary file in its directory '${locked}': permission denied (EACCES)\n`,
        );
        expect(existsSync(target)).toBe(false);
      } finally {
        chmodSync(locked, 0o755);
        rmSync(where, { recursive: true, force: true });
      }
    },
  );
});

describe.concurrent('limits say the limit', () => {
  it('--gas above 2^53-1 names the range', async () => {
    const r = await keyvm(['run', HELLO, '--gas', '9007199254740992']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('expected a whole number from 0 to 9,007,199,254,740,991 (2^53-1)');
  });

  it('--memory too small to boot says what booting takes, and that amount boots', async () => {
    const r = await keyvm(['run', HELLO, '--memory', '10']);
    expect(r.code).toBe(2);
    const needed = /takes ([\d,]+) words of memory and --memory is 10 \(give --memory (\d+) or more\)/.exec(
      r.stderr,
    );
    expect(needed, r.stderr).not.toBeNull();
    expect(Number(needed![1]!.replace(/,/g, ''))).toBe(Number(needed![2]));
    expect((await keyvmJson(['run', HELLO, '--memory', needed![2]!])).json.status).toBe('halted');
    const less = await keyvm(['run', HELLO, '--memory', String(Number(needed![2]) - 1)]);
    expect(less.code).toBe(2);
  });
});

describe.concurrent('binary output to a terminal is refused', () => {
  // `script` (util-linux) runs keyvm on a pseudo-terminal.
  const onTerminal = (args: string): Promise<{ code: number | null; out: string }> =>
    new Promise((resolve) => {
      const child = spawn('script', ['-qfec', `${process.execPath} ${BIN} ${args}`, '/dev/null'], {
        cwd: REPO,
        env: { ...process.env, NO_COLOR: '1', KEYVM_DEBUG: '' },
      });
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString('utf8');
      });
      child.on('close', (code) => resolve({ code, out }));
      child.stdin.end();
    });
  const hasScript = existsSync('/usr/bin/script');

  it.skipIf(!hasScript)('run --save - and asm -o - on a terminal: exit 2, nothing written', async () => {
    const save = await onTerminal(`run ${HELLO} --save -`);
    expect(save.code).toBe(2);
    expect(save.out).toContain('refusing to write an image to a terminal (--save -)');
    expect(save.out).not.toContain('Hello');
    const asm = await onTerminal(`asm ${HELLO} -o -`);
    expect(asm.code).toBe(2);
    expect(asm.out).toContain('refusing to write a .kvm program to a terminal (-o -)');
    expect(asm.out).not.toContain('KVM');
  });

  it('to a pipe they are written', async () => {
    const r = await keyvm(['asm', HELLO, '-o', '-']);
    expect(r.code).toBe(0);
    expect(r.stdoutBytes.subarray(0, 3).toString('latin1')).toBe('KVM');
  });
});

describe.concurrent('names', () => {
  it('inspect names the fault an image stopped on, as --json does', async () => {
    const src = join(dir, 'div.ism');
    writeFileSync(src, 'div(1, 0)\n');
    const image = join(dir, 'div.kvmi');
    const run = await keyvmJson(['run', src, '--save', image]);
    expect(run.code).toBe(1);
    const text = await keyvm(['inspect', image]);
    expect(text.stdout).toMatch(/fault division-by-zero \(3\) at pc 4 in domain #6/);
    const json = await keyvm(['inspect', image, '--json']);
    const fault = (JSON.parse(json.stdout) as { kernel: { fault: unknown } }).kernel.fault;
    const { message: _message, ...named } = run.json.fault as Record<string, unknown>;
    expect(fault).toEqual(named);
  });

  it('ops suggests the instruction meant, as the assembler does', async () => {
    const r = await keyvm(['ops', 'PAGERED']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe("keyvm: ops: no instruction named 'PAGERED'; did you mean 'PAGEREAD'?\n");
    const none = await keyvm(['ops', 'XYZZYQ']);
    expect(none.stderr).toBe("keyvm: ops: no instruction named 'XYZZYQ'\n");
  });
});
