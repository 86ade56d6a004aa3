// The keyvm command through a real process: every verb, every exit code, the
// --json and --trace contracts, stdin and stdout as `-`, and bad input of each kind.
import { spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DomainSlot, type KeyPage, PageType, Store } from '@keyvm/core';
import { encodeImage } from '@keyvm/image';
import { Machine } from '@keyvm/interpreter';
import { INSTRUCTIONS, Op } from '@keyvm/isa';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BIN, EXAMPLES, keyvm, keyvmJson, REPO, tempDir } from './spawn.test-helpers.js';

const HELLO = join(EXAMPLES, 'hello.ism');
const SANDBOX = join(EXAMPLES, 'sandbox.ism');
const METER_KEEPER = join(EXAMPLES, 'meter-keeper.ism');
const VERBS = ['run', 'resume', 'asm', 'disasm', 'inspect', 'graph', 'ops'];
const CONTRACT = ['status', 'steps', 'gasUsed', 'stack'];
const STACK_TRACE = /\n\s+at /;

let dir: string;
/** A file in the temporary directory holding `text`. */
const file = (name: string, text: string | Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(() => {
  assertBuilt();
  dir = tempDir();
});

describe.concurrent('help, version and usage errors (exit 2)', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO, 'apps/cli/package.json'), 'utf8')) as {
      version: string;
    };
    const r = await keyvm(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`keyvm ${version}`);
  });

  it('--help lists every verb and the exit codes', async () => {
    const r = await keyvm(['--help']);
    expect(r.code).toBe(0);
    for (const verb of VERBS) expect(r.stdout).toContain(verb);
    expect(r.stdout).toMatch(/Exit codes:/);
  });

  it.each(VERBS)('%s --help exits 0 and prints its usage', async (verb) => {
    const r = await keyvm([verb, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: keyvm ${verb}`);
  });

  it('documents the bounded defaults in run --help', async () => {
    const r = await keyvm(['run', '--help']);
    expect(r.stdout).toContain('10,000,000');
    expect(r.stdout).toContain('16,777,216');
  });

  it.each([
    ['no verb', []],
    ['an unknown verb', ['frobnicate']],
    ['an unknown flag', ['run', HELLO, '--frob']],
    ['a missing argument', ['run']],
    ['a bad number', ['run', HELLO, '--gas', 'lots']],
    ['a negative number', ['run', HELLO, '--memory', '-5']],
    ['an unknown trace format', ['run', HELLO, '--trace=xml']],
    ['an unknown instruction for ops', ['ops', 'FROB']],
    ['stdout wanted twice', ['run', HELLO, '--json', '--save', '-']],
    ['--trace-file without --trace', ['run', HELLO, '--trace-file', 'x']],
  ])('%s is a usage error', async (_what, args) => {
    const r = await keyvm(args);
    expect(r.code).toBe(2);
    expect(r.stdout === '' || args.length === 0).toBe(true);
    expect(r.stderr).toMatch(/keyvm:|Usage:/);
    expect(r.stderr).not.toMatch(STACK_TRACE);
  });

  it('an unknown verb gets one clear message with a suggestion', async () => {
    const r = await keyvm(['rnu', HELLO]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^keyvm: unknown command 'rnu'/);
    expect(r.stderr).toContain('run');
  });

  it('help with an unknown verb says which and where to look, instead of the whole help', async () => {
    const r = await keyvm(['help', 'bogus']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "keyvm: unknown verb 'bogus'\n(the verbs are run, resume, asm, build, disasm, inspect, graph, debug, ops; see keyvm --help)\n",
    );
    const known = await keyvm(['help', 'asm']);
    expect(known.code).toBe(0);
    expect(known.stdout).toContain('Usage: keyvm asm');
    const top = await keyvm(['help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^Usage: keyvm \[options\] \[command\]/);
    expect(top.stdout).toContain('help [verb]');
  });
});

describe.concurrent('run: outcomes and exit codes', () => {
  it('halted: exit 0, the --json contract fields in order', async () => {
    const src = file('two.ism', 'add(1,0)\nsub(5,3)\n');
    const r = await keyvmJson(['run', src]);
    expect(r.code).toBe(0);
    expect(Object.keys(r.json)).toEqual([...CONTRACT, 'output']);
    expect(r.json).toEqual({ status: 'halted', steps: 6, gasUsed: 6, stack: [1, 2], output: '' });
  });

  it('halted: a short human summary on stderr, program output alone on stdout', async () => {
    const r = await keyvm(['run', HELLO]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('Hello, KeyVM!\n');
    expect(r.stderr).toMatch(/^halted after 277 steps, 935 gas; stack \[14\]\n$/);
  });

  it('--json keeps at most --output-limit characters of output and counts the rest', async () => {
    const r = await keyvmJson(['run', HELLO, '--output-limit', '5']);
    expect(r.code).toBe(0);
    expect(Object.keys(r.json)).toEqual([...CONTRACT, 'output', 'outputDropped']);
    expect(r.json).toMatchObject({ status: 'halted', output: 'Hello', outputDropped: 9 });
    expect(r.stderr).toContain('console output beyond 5 characters was dropped (9 more)');
    expect((await keyvmJson(['run', HELLO])).json).not.toHaveProperty('outputDropped');
  });

  it('fault: exit 1, the fault with code, message and pc', async () => {
    const src = file('div.ism', 'div(1,0)\n');
    const r = await keyvmJson(['run', src]);
    expect(r.code).toBe(1);
    expect(Object.keys(r.json)).toEqual([...CONTRACT, 'fault', 'output']);
    const fault = r.json.fault as Record<string, unknown>;
    expect(Object.keys(fault).slice(0, 3)).toEqual(['code', 'message', 'pc']);
    expect(fault).toMatchObject({ code: 'division-by-zero', pc: 4, number: 3 });
    expect(r.json.stack).toEqual([1, 0]);
    const human = await keyvm(['run', src]);
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(
      /^\S*div\.ism:1:1: fault: division-by-zero in the root domain #\d+ \(pc 4\): /,
    );
    // Without a source map the pc is all there is.
    const bare = file('div.kvm', '');
    await keyvm(['asm', src, '--strip', '-o', bare]);
    expect((await keyvm(['run', bare])).stderr).toMatch(
      /^fault: division-by-zero at pc 4 in the root domain #\d+: /,
    );
  });

  it('out of gas: exit 3, with --gas bounding the run', async () => {
    const r = await keyvmJson(['run', join(EXAMPLES, 'keyvm-seed.ism'), '--gas', '100']);
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({ status: 'out-of-gas', steps: 100, gasUsed: 100 });
  });

  it('--memory bounds the prime memory meter (too little to boot is a usage error)', async () => {
    const r = await keyvm(['run', HELLO, '--memory', '10']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^keyvm: cannot boot: /);
    const src = file('page.ism', 'createpage(15, 0, 1, 1000)\n');
    // Booting takes about 1,550 words (pages, the domain page's slots, devices: see MEMORY_CHARGES).
    expect((await keyvmJson(['run', src, '--memory', '2500'])).json).toMatchObject({
      status: 'fault',
      fault: { code: 'out-of-memory' },
    });
    expect((await keyvmJson(['run', src, '--memory', '5000'])).json.status).toBe('halted');
  });

  it('waiting for input: exit 6; --input and --input-file feed the input device', async () => {
    // Echo two characters from the input device (slot 13) to the console (slot 12).
    const src = file(
      'echo.ism',
      'device(12, 0, device(13, 0, 0))\ndrop()\ndevice(12, 0, device(13, 0, 0))\ndrop()\n',
    );
    const waiting = await keyvmJson(['run', src, '--no-stdin']);
    expect(waiting.code).toBe(6);
    expect(waiting.json.status).toBe('waiting');
    const fed = await keyvmJson(['run', src, '--input', 'ok']);
    expect(fed.code).toBe(0);
    expect(fed.json.output).toBe('ok');
    const fromFile = await keyvmJson(['run', src, '--input-file', file('in.txt', 'hi')]);
    expect(fromFile.json.output).toBe('hi');
    const fromStdin = await keyvmJson(['run', src, '--input-file', '-'], { input: 'yo' });
    expect(fromStdin.json.output).toBe('yo');
  });

  it('paused by --max-steps: exit 7; save, resume and the end is the uninterrupted one', async () => {
    const whole = await keyvmJson(['run', METER_KEEPER, '--save', join(dir, 'whole.kvmi')]);
    expect(whole.code).toBe(0);
    const half = await keyvmJson([
      'run',
      METER_KEEPER,
      '--max-steps',
      '5000',
      '--save',
      join(dir, 'half.kvmi'),
    ]);
    expect(half.code).toBe(7);
    expect(half.json).toMatchObject({ status: 'paused', steps: 5000 });
    expect(typeof half.json.imageHash).toBe('string');
    const rest = await keyvmJson(['resume', join(dir, 'half.kvmi'), '--save', join(dir, 'rest.kvmi')]);
    expect(rest.code).toBe(0);
    expect(Object.keys(rest.json)).toEqual([...CONTRACT, 'imageHash', 'output']);
    expect(rest.json.stack).toEqual(whole.json.stack);
    expect(rest.json.imageHash).toBe(whole.json.imageHash);
    expect((half.json.steps as number) + (rest.json.steps as number)).toBe(whole.json.steps);
    expect(`${half.json.output}${rest.json.output}`).toBe(whole.json.output);
    expect(readFileSync(join(dir, 'rest.kvmi'))).toEqual(readFileSync(join(dir, 'whole.kvmi')));
  });

  it('--compress saves a gzip image with the same hash; every verb reads it', async () => {
    const plain = await keyvmJson([
      'run',
      METER_KEEPER,
      '--max-steps',
      '5000',
      '--save',
      join(dir, 'p.kvmi'),
    ]);
    const packed = await keyvmJson([
      'run',
      METER_KEEPER,
      '--max-steps',
      '5000',
      '--save',
      join(dir, 'z.kvmi'),
      '--compress',
    ]);
    expect(packed.json.imageHash).toBe(plain.json.imageHash);
    const bytes = readFileSync(join(dir, 'z.kvmi'));
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    expect(bytes.length).toBeLessThan(readFileSync(join(dir, 'p.kvmi')).length);
    const a = await keyvmJson(['resume', join(dir, 'p.kvmi')]);
    const b = await keyvmJson(['resume', join(dir, 'z.kvmi')]);
    expect(b.json).toEqual(a.json);
    expect((await keyvm(['inspect', join(dir, 'z.kvmi')])).code).toBe(0);
    const junk = join(dir, 'junk.kvmi');
    writeFileSync(junk, bytes.subarray(0, bytes.length - 10));
    const bad = await keyvm(['resume', junk]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toMatch(/bad-compression/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it('resume --gas gives an out-of-gas image a new budget; run on an image resumes too', async () => {
    const seed = join(EXAMPLES, 'keyvm-seed.ism');
    const image = join(dir, 'seed.kvmi');
    expect((await keyvmJson(['run', seed, '--gas', '100', '--save', image])).code).toBe(3);
    const stuck = await keyvmJson(['resume', image]);
    expect(stuck.json).toMatchObject({ status: 'out-of-gas', steps: 0 });
    const more = await keyvmJson(['resume', image, '--gas', '50']);
    expect(more.json).toMatchObject({ status: 'out-of-gas', steps: 50 });
    const toTheEnd = await keyvmJson(['run', image, '--gas', '100000']);
    expect(toTheEnd.json).toMatchObject({ status: 'fault', fault: { code: 'stack-overflow' } });
    expect(toTheEnd.json.steps).toBe(1274 - 100);
  });

  it('- reads the program from stdin and --save - writes the image to stdout', async () => {
    const r = await keyvm(['run', '-', '--save', '-', '-q'], { input: readFileSync(HELLO, 'utf8') });
    expect(r.code).toBe(0);
    // Console output moves to stderr so that stdout holds only the image.
    expect(r.stderr).toBe('Hello, KeyVM!\n');
    const image = file('stdout.kvmi', r.stdoutBytes);
    const shown = await keyvm(['inspect', '-', '--json'], { input: readFileSync(image) });
    expect(shown.code).toBe(0);
    expect((JSON.parse(shown.stdout) as { domains: unknown[] }).domains).toHaveLength(1);
  });

  it('--stats reports on stderr; nothing is coloured off a terminal', async () => {
    const r = await keyvm(['run', HELLO, '--stats'], { env: { NO_COLOR: '' } });
    expect(r.stdout).toBe('Hello, KeyVM!\n');
    expect(r.stderr).toMatch(/^steps\s+277$/m);
    expect(r.stderr).toMatch(/^gas used\s+935$/m);
    expect(r.stderr).toMatch(/instructions\/s/);
    expect(r.stderr).not.toContain('\x1b[');
  });
});

describe.concurrent('--trace', () => {
  const src = (): string => file('trace.ism', 'add(1,0)\nsub(5,3)\n');

  it('jsonl: EIP-3155 field names and order, then a summary line; --json stays alone on stdout', async () => {
    const r = await keyvmJson(['run', src(), '--trace=jsonl']);
    expect(r.code).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(7);
    const steps = lines.slice(0, 6).map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const s of steps)
      expect(Object.keys(s)).toEqual([
        ...['pc', 'op', 'gas', 'gasCost', 'memSize', 'stack', 'depth', 'refund', 'opName'],
        'domain',
        'instruction',
      ]);
    expect(steps[0]).toMatchObject({
      pc: 0,
      op: 0,
      gas: 10_000_000,
      gasCost: 1,
      stack: [],
      depth: 1,
      opName: 'PUSH',
    });
    expect(steps[5]).toMatchObject({ pc: 9, opName: 'SUB', stack: [1, 5, 3] });
    expect(JSON.parse(lines[6]!)).toEqual({ status: 'halted', steps: 6, gasUsed: 6 });
  });

  it('text: one line per step with the disassembled instruction', async () => {
    const r = await keyvm(['run', src(), '--trace']);
    expect(r.code).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[0]).toMatch(/^\s+1\s+#\d+\s+0000:\s+PUSH 1\s+gas 10000000\s+\[\]$/);
    expect(lines[5]).toMatch(/0009:\s+SUB .*\[1 5 3\]$/);
    expect(lines[6]).toMatch(/^halted after 6 steps/);
  });

  it('--trace-file writes the trace to a file', async () => {
    const out = join(dir, 'trace.jsonl');
    const r = await keyvm(['run', src(), '--trace=jsonl', '--trace-file', out, '-q']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(out, 'utf8').trimEnd().split('\n')).toHaveLength(7);
  });
});

/** The temporary files (`.NAME.RANDOM.tmp`) in `where`. */
const temporaryFiles = (where: string): string[] => readdirSync(where).filter((n) => n.endsWith('.tmp'));

describe.concurrent('malformed input (exit 4) and I/O errors (exit 5)', () => {
  it('malformed source: file:line:col diagnostics, no stack trace, nothing on stdout', async () => {
    const bad = file('bad.ism', 'add(1, 2)\nADDD 1 2\n');
    const r = await keyvm(['run', bad, '--json']);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${bad}:2:1: error: unknown instruction 'ADDD'; did you mean 'ADD'?`);
    expect(r.stderr).not.toMatch(STACK_TRACE);
  });

  it('KEYVM_DEBUG=1 adds the stack trace', async () => {
    const bad = file('bad2.ism', 'ADDD\n');
    const r = await keyvm(['run', bad], { env: { KEYVM_DEBUG: '1' } });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(STACK_TRACE);
  });

  it('a corrupt image names what is wrong and where', async () => {
    const image = join(dir, 'good.kvmi');
    expect((await keyvm(['run', HELLO, '--save', image, '-q'])).code).toBe(0);
    const bytes = readFileSync(image);
    bytes[200]! ^= 0xff;
    const corrupt = file('corrupt.kvmi', bytes);
    for (const verb of ['run', 'resume', 'inspect', 'graph', 'disasm']) {
      const r = await keyvm([verb, corrupt]);
      expect(r.code, verb).toBe(4);
      expect(r.stderr).toMatch(
        /^keyvm: .*corrupt\.kvmi: malformed image: bad-checksum: checksum at byte \d+/,
      );
    }
    const truncated = file('truncated.kvmi', readFileSync(image).subarray(0, 40));
    expect((await keyvm(['inspect', truncated])).stderr).toMatch(/truncated: header at byte/);
  });

  it('an image with no root domain is malformed input for run and resume, and still inspectable', async () => {
    const bare = file('bare.kvmi', encodeImage(new Store()));
    for (const verb of ['run', 'resume']) {
      const r = await keyvm([verb, bare]);
      expect(r.code, verb).toBe(4);
      expect(r.stderr).toMatch(/^keyvm: .*bare\.kvmi: malformed image: it has no root domain to run/);
    }
    expect((await keyvm(['inspect', bare])).code).toBe(0);
  });

  it('a corrupt .kvm program and bytes that are neither are malformed input', async () => {
    const kvm = join(dir, 'hello.kvm');
    expect((await keyvm(['asm', HELLO, '-o', kvm])).code).toBe(0);
    const bytes = readFileSync(kvm);
    bytes[bytes.length - 1]! ^= 0xff;
    const r = await keyvm(['run', file('corrupt.kvm', bytes)]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/malformed \.kvm file at byte \d+: .*\[bad-checksum\]/);
    const binary = await keyvm(['run', file('noise.bin', Uint8Array.of(0xff, 0xfe, 0x00, 0x80))]);
    expect(binary.code).toBe(4);
    expect(binary.stderr).toMatch(/not an image, a \.kvm program or UTF-8 assembly text/);
  });

  it('the wrong kind of file for a verb is malformed input', async () => {
    const r = await keyvm(['inspect', HELLO]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/is assembly source, not a KeyVM image; make one with/);
    expect((await keyvm(['resume', HELLO])).code).toBe(4);
  });

  it('a missing file is an I/O error', async () => {
    for (const verb of ['run', 'asm', 'disasm', 'inspect', 'graph']) {
      const r = await keyvm([verb, join(dir, 'missing.ism')]);
      expect(r.code, verb).toBe(5);
      expect(r.stderr).toMatch(
        /^keyvm: cannot read '.*missing\.ism': no such file or directory \(ENOENT\)\n$/,
      );
    }
  });

  it('a reader that closes stdout early ends the run quietly with exit 5', async () => {
    const src = file('forever.ism', 'loop: jump(:loop)\n');
    const child = spawn(process.execPath, [BIN, 'run', src, '--trace=jsonl', '--trace-file', '-'], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(5);
    expect(stderr).not.toMatch(STACK_TRACE);
  });

  it('an unwritable output is an I/O error', async () => {
    const nowhere = join(dir, 'no', 'such', 'dir', 'x.kvmi');
    const r = await keyvm(['run', HELLO, '--save', nowhere]);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/cannot write '.*x\.kvmi': no such file or directory/);
    expect((await keyvm(['asm', HELLO, '-o', join(dir, 'no', 'x.kvm')])).code).toBe(5);
  });

  const SMALL_FILE_LIMIT = 'ulimit -f 100; exec "$0" "$@"'; // 100 blocks: at most 51,200 bytes

  it.skipIf(process.platform === 'win32').each([
    ['asm -o', ['asm', '{src}', '-o', '{out}']],
    ['disasm -o', ['disasm', '{src}', '-o', '{out}']],
    ['run --save', ['run', '{src}', '--save', '{out}', '-q']],
  ])('%s: a failed write (file too large) leaves the old file whole', async (what, template) => {
    const where = mkdtempSync(join(dir, 'efbig-'));
    const src = join(where, 'big.ism');
    // About 800 kB in every form (the disassembler prints zero runs as .zero, so the
    // data page is not all zeros).
    writeFileSync(
      src,
      `x: .zero 200000\n.data ${Array.from({ length: 20000 }, (_, i) => i + 1).join(',')}\nhalt()\n`,
    );
    const out = join(where, 'out');
    writeFileSync(out, 'the old contents');
    const args = template.map((a) => a.replace('{src}', src).replace('{out}', out));
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('/bin/sh', ['-c', SMALL_FILE_LIMIT, process.execPath, BIN, ...args]);
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      child.on('close', (code) => resolve({ code, stderr }));
    });
    expect(r.code, what).toBe(5);
    expect(r.stderr).toBe(`keyvm: cannot write '${out}': file too large (EFBIG)\n`);
    expect(readFileSync(out, 'utf8')).toBe('the old contents');
    expect(temporaryFiles(where)).toEqual([]);
  });

  // Run as another user when we are root (root may write anywhere).
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

  it.skipIf(process.platform === 'win32')(
    'a directory we may not write names the temporary file and the directory, not the file',
    async () => {
      // Our own directory, open to the other user (the shared one is private to us).
      const where = realpathSync(mkdtempSync(join(tmpdir(), 'keyvm-cli-locked-')));
      chmodSync(where, 0o755);
      const locked = join(where, 'locked');
      mkdirSync(locked);
      const out = join(locked, 'hello.kvm');
      writeFileSync(out, 'old');
      chmodSync(out, 0o666);
      chmodSync(locked, 0o555);
      try {
        const r = await keyvm(['asm', HELLO, '-o', out], asUser);
        expect(r.code).toBe(5);
        expect(r.stderr).toBe(
          `keyvm: cannot write '${out}': cannot create a temporary file in its directory '${locked}': permission denied (EACCES)\n`,
        );
        expect(readFileSync(out, 'utf8')).toBe('old');
      } finally {
        chmodSync(locked, 0o755);
        rmSync(where, { recursive: true, force: true });
      }
    },
  );

  it('--input-file with invalid UTF-8 says so, naming the flag', async () => {
    const bad = file('bad-input.txt', Uint8Array.of(0x68, 0xff, 0xfe));
    const r = await keyvm(['run', HELLO, '--input-file', bad]);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(`keyvm: --input-file ${bad}: not valid UTF-8 text\n`);
  });

  it('a directory on stdin is an I/O error, as a directory named is, and writes nothing', async () => {
    const fd = openSync(dir, 'r');
    try {
      const run = await keyvm(['run', '-'], { stdin: fd });
      expect(run.code).toBe(5);
      expect(run.stderr).toBe("keyvm: cannot read '<stdin>': is a directory (EISDIR)\n");
      const out = join(dir, 'from-a-directory.kvm');
      const asm = await keyvm(['asm', '-', '-o', out], { stdin: fd });
      expect(asm.code).toBe(5);
      expect(existsSync(out)).toBe(false);
      const input = await keyvm(['run', HELLO, '--input-file', '-'], { stdin: fd });
      expect(input.code).toBe(5);
    } finally {
      closeSync(fd);
    }
  });

  it.runIf(process.platform === 'linux')(
    'a closed stdin is an I/O error, while an empty one (/dev/null) is an empty program',
    async () => {
      const r = await keyvm(['run', '-'], { stdin: 'closed' });
      expect(r.code).toBe(5);
      expect(r.stderr).toBe("keyvm: cannot read '<stdin>': it is closed (EBADF)\n");
      const fd = openSync('/dev/null', 'r');
      try {
        expect((await keyvm(['run', '-', '-q'], { stdin: fd })).code).toBe(0);
      } finally {
        closeSync(fd);
      }
    },
  );
});

// Not concurrent: a test that blocks this file's event loop (spawnSync) could hide the
// short window in which the save's temporary file exists, so these run on their own,
// with a save of two 16M-word pages (128 MB) to make that window long.
describe('a signal during a save', () => {
  const TWO_BIG_PAGES = 'createpage(15, 0, 1, 16000000)\ncreatepage(16, 0, 1, 16000000)\nhalt()\n';

  it.skipIf(process.platform === 'win32').each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)(
    '%s during a save removes the temporary file and exits %i; the old image stays',
    async (signal, code) => {
      const where = mkdtempSync(join(dir, `interrupt-${signal}-`));
      const src = join(where, 'big.ism');
      writeFileSync(src, TWO_BIG_PAGES);
      const image = join(where, 'machine.kvmi');
      writeFileSync(image, 'the old image');
      const child = spawn(process.execPath, [BIN, 'run', src, '--memory', '40000000', '--save', image, '-q']);
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => {
        stderr += b.toString();
      });
      const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
      let exited = false;
      child.on('exit', () => {
        exited = true;
      });
      // Wait for the temporary file to appear (the run and the encoding come first), then interrupt.
      while (!exited && temporaryFiles(where).length === 0) await new Promise((r) => setTimeout(r, 1));
      expect(exited, `the save ended before its temporary file was seen: ${stderr}`).toBe(false);
      child.kill(signal);
      expect(await closed).toBe(code);
      expect(stderr).toBe('');
      expect(temporaryFiles(where)).toEqual([]);
      expect(readFileSync(image, 'utf8')).toBe('the old image');
    },
  );
});

describe.concurrent('asm and disasm', () => {
  it('asm writes a .kvm program that runs like its source', async () => {
    const kvm = join(dir, 'sandbox.kvm');
    const r = await keyvm(['asm', SANDBOX, '-o', kvm]);
    expect(r.code).toBe(0);
    expect(readFileSync(kvm).subarray(0, 4)).toEqual(Buffer.from('KVM\0', 'latin1'));
    const fromSource = await keyvmJson(['run', SANDBOX]);
    const fromKvm = await keyvmJson(['run', kvm]);
    expect(fromKvm.json).toEqual(fromSource.json);
  });

  it('asm defaults to FILE.kvm next to the source; --strip drops debug info', async () => {
    const src = file('default.ism', 'sub(5,3)\n');
    expect((await keyvm(['asm', src])).code).toBe(0);
    const full = readFileSync(join(dir, 'default.kvm'));
    expect((await keyvm(['asm', src, '--strip', '-o', join(dir, 'stripped.kvm')])).code).toBe(0);
    expect(readFileSync(join(dir, 'stripped.kvm')).length).toBeLessThan(full.length);
  });

  it('- pipes: asm from stdin to stdout, disasm from stdin; the listing assembles back', async () => {
    const bin = await keyvm(['asm', '-', '-o', '-'], { input: readFileSync(HELLO, 'utf8') });
    expect(bin.code).toBe(0);
    const listing = await keyvm(['disasm', '-'], { input: bin.stdoutBytes });
    expect(listing.code).toBe(0);
    expect(listing.stdout).toContain('greeting:');
    expect(listing.stdout).toMatch(/^0000: PUSH 0/m);
    const again = await keyvm(['asm', '-', '-o', '-', '--strip'], { input: listing.stdout });
    const original = await keyvm(['asm', HELLO, '-o', '-', '--strip']);
    expect(again.stdoutBytes).toEqual(original.stdoutBytes);
  });

  it("disasm prints an image's code pages once, with the domains that run them", async () => {
    const image = join(dir, 'sandbox.kvmi');
    await keyvm(['run', SANDBOX, '--save', image, '-q']);
    const r = await keyvm(['disasm', image]);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^; code page #/gm)).toHaveLength(1);
    expect(r.stdout).toMatch(
      /run by domain #\d+ \(halted, root, ip \d+\), #\d+ \(available, ip \d+\), #\d+ \(faulted, ip \d+\)/,
    );
    expect(r.stdout).toContain('PAGEWRITE');
  });
});

describe.concurrent('inspect, graph and ops', () => {
  let image: string;
  let hash: string;
  beforeAll(async () => {
    image = join(dir, 'inspect.kvmi');
    hash = (await keyvmJson(['run', SANDBOX, '--save', image])).json.imageHash as string;
  });

  it('inspect shows header, hash, kernel, domains and their state, meters, pages, keys', async () => {
    const r = await keyvm(['inspect', image]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`sha256   ${hash}`);
    expect(r.stdout).toMatch(/^format {3}version 1, [\d,]+ bytes$/m);
    expect(r.stdout).toMatch(/^kernel {3}root #\d+, active -, run queue \[\], steps 7,145/m);
    expect(r.stdout).toMatch(/^ {2}#\d+ \(root\) {2}halted, ip \d+, sp 1, stack \[4\]$/m);
    expect(r.stdout).toMatch(/faulted, ip \d+, sp 4, stack \[0 666 8 0\]/);
    expect(r.stdout).toMatch(/ 8 DATA {7}read-only-page#\d+v0/);
    expect(r.stdout).toMatch(/time \(child of #1\): 15,025 left/);
    expect(r.stdout).toMatch(/^devices \(3\)$/m);
  });

  it('inspect --json', async () => {
    const r = await keyvm(['inspect', image, '--json']);
    const view = JSON.parse(r.stdout) as {
      format: { sha256: string };
      domains: { state: string; root: boolean }[];
      meters: { remaining: number | null }[];
    };
    expect(view.format.sha256).toBe(hash);
    expect(view.domains.map((d) => d.state)).toEqual(['halted', 'available', 'faulted']);
    expect(view.domains.filter((d) => d.root)).toHaveLength(1);
    expect(view.meters).toHaveLength(3);
  });

  it('graph prints DOT: domains as boxes, edges labelled with slot and kind, read-only dashed', async () => {
    const r = await keyvm(['graph', image]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^digraph keyvm \{\n/);
    expect(r.stdout).toMatch(/n\d+ \[shape=box, [^\]]*label="domain #\d+\\nroot, halted, ip \d+"\];/);
    expect(r.stdout).toMatch(/n\d+ -> n\d+ \[label="8 DATA: read-only", style=dashed\];/);
    expect(r.stdout).toMatch(/n\d+ -> n\d+ \[label="10 KEEPER: gate"\];/);
    expect(r.stdout.trimEnd().endsWith('}')).toBe(true);
  });

  it('graph --svg draws the same graph, deterministically', async () => {
    const a = await keyvm(['graph', image, '--svg']);
    const out = join(dir, 'graph.svg');
    expect((await keyvm(['graph', image, '--svg', '-o', out])).code).toBe(0);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(a.stdout.trimEnd().endsWith('</svg>')).toBe(true);
    expect(a.stdout).toContain('8 DATA: read-only');
    expect(a.stdout.match(/<path /g)!.length).toBeGreaterThan(10);
    expect(readFileSync(out, 'utf8')).toBe(a.stdout);
  });

  it('graph draws a machine with more objects than a call takes arguments', async () => {
    // 70,000 one-word data pages, all reached from one key page of the root domain.
    const m = Machine.boot({ code: [Op.HALT] }, { devices: false });
    const store = m.store;
    const mem = (store.object(m.rootDomain) as KeyPage).slots[DomainSlot.MEMORY]!;
    const pages = store.createPage(PageType.keys, mem, 70_000);
    const slots = store.keyPage(pages, true).slots;
    for (let i = 0; i < slots.length; i++) slots[i] = store.createPage(PageType.data, mem, 1);
    (store.object(m.rootDomain) as KeyPage).slots[20] = pages;
    const big = file('big.kvmi', encodeImage(store));
    const svg = join(dir, 'big.svg');
    const r = await keyvm(['graph', big, '--svg', '-o', svg, '--max-nodes', '80000']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(svg, 'utf8').match(/data page #/g)).toHaveLength(70_003); // and the root's code, stack and data pages
  });

  it('ops prints the instruction table from the ISA', async () => {
    const r = await keyvm(['ops']);
    expect(r.code).toBe(0);
    for (const row of INSTRUCTIONS) expect(r.stdout).toContain(row.doc);
    expect(r.stdout).toMatch(/^ {2}console {2}slot 12 {2}op 0 putChar/m);
    expect(r.stdout).toMatch(/^ {3}4 rights-violation /m);
    expect(r.stdout).toMatch(/^ {3}4 {2}DIV\s+a b -- floor\(a\/b\)\s+1 {2}Floored division/m);
    expect(r.stdout).toMatch(
      new RegExp(
        `^ {2}10 {2}CREATEPAGE\\s+slot type meter size --\\s+${INSTRUCTIONS[10]!.gas}\\+ {2}Create a page`,
        'm',
      ),
    );
    const one = await keyvm(['ops', 'jumpif', '0']);
    expect(one.stdout.trimEnd().split('\n')).toHaveLength(3);
    const json = JSON.parse((await keyvm(['ops', '--json'])).stdout) as {
      code: number;
      name: string;
      gas: number;
    }[];
    expect(json).toHaveLength(INSTRUCTIONS.length);
    expect(json[52]).toMatchObject({ code: 52, name: 'DEVICE', gas: INSTRUCTIONS[52]!.gas, sizeGas: false });
    expect(json[10]).toMatchObject({ name: 'CREATEPAGE', gas: INSTRUCTIONS[10]!.gas, sizeGas: true });
    expect(json[20]).toMatchObject({
      name: 'PAGEWRITE',
      pops: 3,
      pushes: 0,
      operands: [
        { name: 'word', kind: 'word' },
        { name: 'slot', kind: 'slot' },
        { name: 'index', kind: 'index' },
      ],
    });
  });
});
