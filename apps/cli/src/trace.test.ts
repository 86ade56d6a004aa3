import { join } from 'node:path';
import type { StepInfo } from '@keyvm/interpreter';
import { beforeAll, describe, expect, it } from 'vitest';
import { bareTrace } from './main.js';
import { assertBuilt, EXAMPLES, keyvm, tempDir, writerIn } from './spawn.test-helpers.js';
import { textStep } from './trace-format.js';

const dir = tempDir();
const file = writerIn(dir);

beforeAll(assertBuilt);

const lines = (text: string): Record<string, unknown>[] =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe.concurrent('--trace=jsonl', () => {
  it('has memSize (the data page, in words), refund 0, and error on the faulting step only', async () => {
    const r = await keyvm(['run', file('div.ism', 'add(1, 0)\ndiv(5, 0)\n'), '--trace=jsonl']);
    expect(r.code).toBe(1);
    const all = lines(r.stderr);
    const steps = all.slice(0, -1);
    expect(steps).toHaveLength(6);
    for (const s of steps) expect(s).toMatchObject({ memSize: 256, refund: 0 });
    for (const s of steps.slice(0, -1)) expect(s).not.toHaveProperty('error');
    expect(steps.at(-1)).toMatchObject({ pc: 9, opName: 'DIV', error: 'division-by-zero: DIV by zero' });
    // EIP-3155's fields in its order, then KeyVM's own (added after them, never renamed).
    expect(Object.keys(steps.at(-1)!)).toEqual([
      'pc',
      'op',
      'gas',
      'gasCost',
      'memSize',
      'stack',
      'depth',
      'refund',
      'opName',
      'error',
      'domain',
      'instruction',
    ]);
    expect(steps.map((s) => s.instruction)).toEqual(['PUSH 1', 'PUSH 0', 'ADD', 'PUSH 5', 'PUSH 0', 'DIV']);
    expect(all.at(-1)).toEqual({
      status: 'fault',
      steps: 5,
      gasUsed: 5,
      fault: { code: 'division-by-zero', message: 'DIV by zero', pc: 9, domain: 6, number: 3 },
    });
  });

  it('memSize follows the data page as it is resized', async () => {
    const r = await keyvm(['run', file('grow.ism', 'pagesizeset(8, 1000)\nNOP\n'), '--trace=jsonl']);
    expect(r.code).toBe(0);
    const steps = lines(r.stderr).slice(0, -1);
    expect(steps.at(0)!.memSize).toBe(256);
    expect(steps.at(-1)).toMatchObject({ opName: 'NOP', memSize: 1000 });
  });

  it('--trace-file - gives stdout to the trace alone; console text goes to stderr', async () => {
    const r = await keyvm(['run', join(EXAMPLES, 'hello.ism'), '--trace=jsonl', '--trace-file', '-']);
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out.length).toBe(278);
    expect(out.at(-1)).toEqual({ status: 'halted', steps: 277, gasUsed: 935 });
    expect(r.stderr).toMatch(/^Hello, KeyVM!\nhalted after 277 steps/);
  });
});

describe.concurrent('--trace (text)', () => {
  it('keeps its columns with wide domain numbers and code offsets', () => {
    const step = (domain: number, pc: number): StepInfo => ({
      pc,
      op: 0,
      opName: 'PUSH',
      gas: 5,
      gasCost: 1,
      stack: [],
      sp: 0,
      stackOmitted: 0,
      depth: 1,
      domain,
    });
    const narrow = textStep(1, step(6, 0), 'PUSH 1', '[]');
    const wide = textStep(123456, step(16_777_216, 16_777_215), 'PUSH 1', '[]');
    expect(narrow.indexOf('PUSH 1')).toBe(wide.indexOf('PUSH 1'));
    expect(narrow.indexOf('gas')).toBe(wide.indexOf('gas'));
    expect(wide).toContain('#16777216 16777215: PUSH 1');
  });

  it('shows each instruction as the disassembler writes it, a cut-off one included', async () => {
    // `.word 0` at the end is a PUSH whose immediate lies past the end of the code.
    const src = file('cut.ism', 'PUSH 7\nPICK 0\n.word 99\n');
    const r = await keyvm(['run', '--trace', src]);
    expect(r.code).toBe(1);
    const traced = r.stderr.split('\n').filter((l) => /^\s+\d+\s+#/.test(l));
    expect(
      traced.map(
        (l) =>
          l
            .slice(l.indexOf(':') + 1)
            .trim()
            .split(/\s{2,}/)[0],
      ),
    ).toEqual([
      'PUSH 7',
      'PICK 0',
      '.word 99', // no opcode: it faults bad-opcode
    ]);
    const cut = await keyvm(['run', '--trace', file('end.ism', 'PUSH 7\n.word 0\n')]);
    expect(cut.stderr).toContain('0002:     .word 0 ; PUSH: immediate past the end of the code');
    const jsonl = await keyvm(['run', '--trace=jsonl', file('end2.ism', 'PUSH 7\n.word 0\n')]);
    expect(lines(jsonl.stderr).map((l) => l.instruction)).toEqual([
      'PUSH 7',
      '.word 0 ; PUSH: immediate past the end of the code',
      undefined, // the summary
    ]);
  });

  it('a bare --trace before FILE traces as text instead of reading FILE as the format', async () => {
    const r = await keyvm(['run', '--trace', file('one.ism', 'PUSH 1\n')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^\s+1\s+#6\s+0000:\s+PUSH 1/);
    expect(bareTrace(['node', 'keyvm', 'run', '--trace', 'jsonl', 'f.ism'])).toContain('jsonl');
    expect(bareTrace(['node', 'keyvm', 'run', '--input', '--trace', 'f.ism'])).toContain('--trace');
    expect(bareTrace(['node', 'keyvm', 'run', '--trace', 'f.ism'])).toContain('--trace=text');
  });
});
