// `keyvm run` talking to the world, through the real command: program arguments,
// stdin on the input device (read as the program asks), console output streamed
// to a pipe, Ctrl-C stopping at an instruction boundary (and saving), and control
// characters escaped on a terminal.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { escapeControls } from './console-sink.js';
import {
  assertBuilt,
  BIN,
  EXAMPLES,
  keyvm,
  keyvmJson,
  REPO,
  tempDir,
  writerIn,
} from './spawn.test-helpers.js';

const FACT = join(EXAMPLES, 'fact.ism');
const READLOOP = join(EXAMPLES, 'readloop.ism');

const dir = tempDir();
const file = writerIn(dir);

beforeAll(assertBuilt);

/** A keyvm process to talk to: its stdout as it comes, and a way to wait for some of it. */
function live(args: readonly string[]): {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  waitFor: (text: string) => Promise<void>;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: '1', KEYVM_DEBUG: '' },
  });
  let out = '';
  let err = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString('utf8');
    for (const w of waiters.splice(0)) {
      if (out.includes(w.text)) w.resolve();
      else waiters.push(w);
    }
  });
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString('utf8');
  });
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor: (text) =>
      new Promise<void>((resolve, reject) => {
        if (out.includes(text)) return resolve();
        waiters.push({ text, resolve });
        void exit.then(() => {
          if (!out.includes(text))
            reject(new Error(`exited before printing ${JSON.stringify(text)}:\n${out}\n${err}`));
        });
      }),
    exit,
  };
}

/** Until `path` has something in it. */
async function written(path: string): Promise<void> {
  while (!existsSync(path) || statSync(path).size === 0)
    await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Prints `a` and a newline, then counts down from `n` (6 instructions a turn), then prints `b`. */
const countdown = (n: number): string =>
  `device(12, 0, 97)\ndrop()\ndevice(12, 0, 10)\ndrop()\nPUSH ${n}\nloop: sub(1)\nDUP\nPUSH :loop\nSWAP\nJUMPIF\nDROP\ndevice(12, 0, 98)\ndrop()\n`;

describe.concurrent('program arguments', () => {
  it('are integers pushed onto the root stack, first deepest', async () => {
    const r = await keyvm(['run', FACT, '5']);
    expect(r).toMatchObject({ code: 0, stdout: '120\n' });
    const j = await keyvmJson(['run', file('args.ism', 'NOP\n'), '-3', '0x10', '4294967295', '7']);
    expect(j.json.stack).toEqual([-3, 16, -1, 7]);
  });

  it('that are not 32-bit integers are usage errors naming the argument', async () => {
    for (const bad of ['x', '1.5', '4294967296', '-2147483649', '']) {
      const r = await keyvm(['run', FACT, bad]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(`program argument '${bad}' is not a 32-bit integer`);
    }
  });

  it('are refused for an image, which resumes rather than boots', async () => {
    const image = join(dir, 'fact.kvmi');
    expect((await keyvm(['run', FACT, '3', '--save', image])).code).toBe(0);
    const r = await keyvm(['run', image, '4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/program arguments are for a program being booted/);
  });
});

describe.concurrent('stdin feeds the input device', () => {
  it('when stdin is not a terminal, then -1 once at its end', async () => {
    const r = await keyvm(['run', READLOOP], { input: 'hello\n' });
    expect(r).toMatchObject({ code: 0, stdout: 'HELLO\n' });
    expect(r.stderr).toMatch(/stack \[6\]/);
  });

  it('not with --no-stdin: the program waits (exit 6)', async () => {
    const r = await keyvmJson(['run', READLOOP, '--no-stdin'], { input: 'hello\n' });
    expect(r.code).toBe(6);
    expect(r.json.status).toBe('waiting');
  });

  it('after --input text with --stdin; --input alone ends with -1 too', async () => {
    const both = await keyvmJson(['run', READLOOP, '--input', 'ab', '--stdin'], { input: 'cd' });
    expect(both.json).toMatchObject({ status: 'halted', output: 'ABCD', stack: [4] });
    const alone = await keyvmJson(['run', READLOOP, '--input', 'ab'], { input: 'ignored' });
    expect(alone.json).toMatchObject({ status: 'halted', output: 'AB', stack: [2] });
  });

  it('as the program asks: a reply can depend on what it printed', async () => {
    const p = live(['run', READLOOP]);
    p.child.stdin.write('a');
    await p.waitFor('A');
    p.child.stdin.write('b');
    await p.waitFor('AB');
    p.child.stdin.end('c');
    expect(await p.exit).toBe(0);
    expect(p.stdout()).toBe('ABC');
    expect(p.stderr()).toMatch(/^halted .*stack \[3\]/);
  });

  it('keyvm exits when the program halts, though the writer keeps stdin open', async () => {
    const p = live(['run', file('readone.ism', 'device(12, 0, device(13, 0, 0))\ndrop()\n')]);
    p.child.stdin.write('xyz');
    expect(await p.exit).toBe(0);
    expect(p.stdout()).toBe('x');
  });

  it('invalid UTF-8 on stdin reads as U+FFFD', async () => {
    const r = await keyvm(['run', READLOOP, '--json'], { input: new Uint8Array([0x61, 0xff, 0x62]) });
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'halted', output: 'A\uFFFDB', stack: [3] });
  });
});

describe.concurrent('console output and signals', () => {
  it('goes out to a pipe as the program runs, and Ctrl-C stops it at an instruction boundary', async () => {
    const p = live(['run', file('forever.ism', countdown(2_000_000_000)), '--gas', '100000000000']);
    // `a` arrives while the countdown still runs: without streaming it never would.
    await p.waitFor('a\n');
    p.child.kill('SIGINT');
    expect(await p.exit).toBe(130);
    expect(p.stdout()).toBe('a\n');
    expect(p.stderr()).toMatch(/^interrupted after [\d,]+ steps, [\d,]+ gas; stack \[\d+/);
  });

  it('Ctrl-C with --save saves the machine there; it resumes from that instruction', async () => {
    const image = join(dir, 'interrupted.kvmi');
    const trace = join(dir, 'interrupted.jsonl');
    const source = file('count.ism', countdown(2_000_000_000));
    const p = live([
      ...['run', source, '--gas', '100000000000', '--save', image, '--json'],
      ...['--trace=jsonl', '--trace-file', trace],
    ]);
    // The trace shows the run under way (so the signal handler is in place).
    await written(trace);
    p.child.kill('SIGINT');
    expect(await p.exit).toBe(130);
    const json = JSON.parse(p.stdout()) as { status: string; stack: number[]; imageHash: string };
    expect(json.status).toBe('interrupted');
    expect(json.imageHash).toMatch(/^[0-9a-f]{64}$/);
    // Six more instructions are one turn of the loop (PUSH 1 SUB DUP PUSH SWAP JUMPIF): one less.
    const resumed = await keyvmJson(['resume', image, '--max-steps', '6']);
    expect(resumed.json.status).toBe('paused');
    const counter = (s: number[]) => s[0]!;
    expect(counter(resumed.json.stack as number[])).toBe(counter(json.stack) - 1);
    // The trace ends with the summary of the interrupted run.
    const last = readFileSync(trace, 'utf8').trimEnd().split('\n').at(-1)!;
    expect(JSON.parse(last)).toMatchObject({ status: 'interrupted' });
  });

  it('escapeControls shows control characters but tab and newline as escapes', () => {
    expect(escapeControls('a\x1b[2Jb\tc\n\r\0\x07\x9b')).toBe('a\\x1B[2Jb\tc\n\\r\\0\\x07\\x9B');
    expect(escapeControls('plain ✓ text')).toBe('plain ✓ text');
  });

  // `script` (util-linux) runs keyvm on a pseudo-terminal.
  const onTerminal = (command: string): Promise<{ code: number | null; out: string }> =>
    new Promise((resolve) => {
      const child = spawn('script', ['-qfec', command, '/dev/null'], {
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

  it.skipIf(!hasScript)('on a terminal, control characters are escaped unless --raw', async () => {
    const src = file(
      'esc.ism',
      'device(12, 0, 27)\ndrop()\ndevice(12, 0, 65)\ndrop()\ndevice(12, 0, 10)\ndrop()\n',
    );
    const escaped = await onTerminal(`${process.execPath} ${BIN} run ${src} -q`);
    expect(escaped.out).toContain('\\x1BA');
    expect(escaped.out).not.toContain('\x1bA');
    const raw = await onTerminal(`${process.execPath} ${BIN} run ${src} -q --raw`);
    expect(raw.out).toContain('\x1bA');
  });

  it.skipIf(!hasScript)(
    'on a terminal, the progress line is cleared before program output',
    async () => {
      // A line every 40,000,000 instructions, for ever; progress shows after half a
      // second. The run ends with a Ctrl-C typed on the terminal once the cleared
      // progress line has been seen, however fast or slow this machine is.
      const src = file(
        'ticks.ism',
        'loop: device(12, 0, 120)\ndrop()\ndevice(12, 0, 10)\ndrop()\nPUSH 10000000\ninner: sub(1)\nDUP\nPUSH :inner\nSWAP\nJUMPIF\nDROP\njump(:loop)\n',
      );
      const child = spawn(
        'script',
        ['-qfec', `${process.execPath} ${BIN} run ${src} --gas 100000000000000`, '/dev/null'],
        { cwd: REPO, env: { ...process.env, NO_COLOR: '1', KEYVM_DEBUG: '' } },
      );
      let out = '';
      let typed = false;
      const seen = () => out.includes('gas…\r\x1b[2Kx');
      const giveUp = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString('utf8');
        if (!typed && seen()) {
          typed = true;
          child.stdin.write('\x03');
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      clearTimeout(giveUp);
      expect(seen(), `no cleared progress line in 60 s: ${JSON.stringify(out.slice(-300))}`).toBe(true);
      expect(code).toBe(130);
      // Program text never follows progress text on the same line.
      expect(out).not.toMatch(/gas…x/);
    },
    90_000,
  );
});
