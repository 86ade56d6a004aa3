// Authoring through the real command: debug information saved with images (outside
// their hash), faults at file:line:col naming slots and keys, .include from disk,
// disassembly that keeps the source's shape, and predefined names that match the machine.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assemble, PREDEFINED } from '@keyvm/assembler';
import { DomainSlot, Store } from '@keyvm/core';
import {
  attachDebugInfo,
  encodeImage,
  imageDebugInfo,
  MAX_DEBUG_BYTES,
  stateLength,
  withDebugInfo,
} from '@keyvm/image';
import { BootSlot } from '@keyvm/interpreter';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, keyvm, keyvmJson, tempDir, writerIn } from './spawn.test-helpers.js';

const dir = tempDir();
const file = writerIn(dir);

beforeAll(assertBuilt);

const COUNT = `; counts down from 3, then divides by zero
        PUSH 3
loop:   SUB 1
        DUP
        JUMPIF :loop
        DROP
oops:   div(7, 0)
        HALT
`;

describe('images keep the debug information of the program that made them', () => {
  it('saves labels, source map and source text outside the state and its hash', async () => {
    const src = file('count.ism', COUNT);
    const saved = join(dir, 'count.kvmi');
    const r = await keyvmJson(['run', src, '--max-steps', '5', '--save', saved]);
    expect(r.code).toBe(7);
    const bytes = readFileSync(saved);
    const state = bytes.subarray(0, stateLength(bytes));
    expect(state.length).toBeLessThan(bytes.length);
    expect(r.json.imageHash).toBe(createHash('sha256').update(state).digest('hex'));
    const debug = imageDebugInfo(bytes)!;
    expect(debug.programs).toHaveLength(1);
    expect(debug.programs[0]!.files).toEqual([{ name: src, text: COUNT }]);
    expect(debug.programs[0]!.labels.map((l) => l.name)).toEqual(['loop', 'oops']);

    // The same machine without debug information has the same hash.
    const bare = join(dir, 'count.kvm');
    expect((await keyvm(['asm', src, '--strip', '-o', bare])).code).toBe(0);
    const plain = await keyvmJson(['run', bare, '--max-steps', '5', '--save', join(dir, 'plain.kvmi')]);
    expect(plain.json.imageHash).toBe(r.json.imageHash);
    expect(imageDebugInfo(readFileSync(join(dir, 'plain.kvmi')))).toBeUndefined();

    // Resumed, the fault still points at the source; saved again, the debug info stays.
    const again = join(dir, 'again.kvmi');
    const resumed = await keyvm(['resume', saved, '--save', again, '--compress']);
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toMatch(
      /count\.ism:7:9: fault: division-by-zero in the root domain #\d+ \(pc \d+, in oops\): DIV by zero\n {2}oops: {3}div\(7, 0\)\n {10}\^/,
    );
    const json = await keyvmJson(['resume', again]);
    expect(json.json.fault).toMatchObject({
      code: 'division-by-zero',
      file: src,
      line: 7,
      col: 9,
      label: 'oops',
    });

    // disasm of the image keeps the labels and the source's shape.
    const listing = await keyvm(['disasm', saved]);
    expect(listing.stdout).toContain(`(from ${src})`);
    expect(listing.stdout).toMatch(/loop:\n\d+: SUB 1 +; 3:9\n\d+: DUP +; 4:9\n\d+: JUMPIF :loop +; 5:9/);
    expect(listing.stdout).toMatch(/oops:\n\d+: DIV 7 0 /);
    // The listing assembles back to the same code words.
    expect([...assemble(listing.stdout).code]).toEqual([...assemble(COUNT).code]);
  });

  it('keeps source text in .kvm files (SRCS), so their faults show the line too', async () => {
    const src = file('count2.ism', COUNT);
    const kvm = join(dir, 'count2.kvm');
    expect((await keyvm(['asm', src, '-o', kvm])).code).toBe(0);
    const r = await keyvm(['run', kvm]);
    expect(r.stderr).toContain('count2.ism:7:9: fault: division-by-zero');
    expect(r.stderr).toContain('  oops:   div(7, 0)\n          ^');
  });

  it('refuses a damaged debug section as malformed input, naming it', async () => {
    const src = file('count3.ism', COUNT);
    const saved = join(dir, 'count3.kvmi');
    await keyvm(['run', src, '--max-steps', '3', '--save', saved, '-q']);
    const bytes = readFileSync(saved);
    bytes[bytes.length - 2]! ^= 0xff;
    const damaged = join(dir, 'damaged.kvmi');
    writeFileSync(damaged, bytes);
    const r = await keyvm(['resume', damaged]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/bad-debug-info: debug at byte \d+: the debug section checksum does not match/);
  });
});

describe('faults say where and why', () => {
  it('names the slot, the key found and the kind needed, at file:line:col', async () => {
    const src = file('slot.ism', '; read through the time meter\n  pageread(TIME, 0)\n');
    const r = await keyvmJson(['run', src]);
    expect(r.code).toBe(1);
    expect(r.json.fault).toMatchObject({
      code: 'wrong-kind',
      message: 'slot 0 (TIME) holds a use-only meter key, PAGEREAD needs a page key',
      file: src,
      line: 2,
      col: 3,
    });
    const human = await keyvm(['run', src]);
    expect(human.stderr).toContain(
      `${src}:2:3: fault: wrong-kind in the root domain #6 (pc 4): slot 0 (TIME) holds a use-only meter key, PAGEREAD needs a page key\n    pageread(TIME, 0)\n    ^`,
    );
    const write = file('write.ism', 'ATTENUATE SELF 20 SELF DATA READ_ONLY\nPAGEWRITE 7 20 0\n');
    expect((await keyvmJson(['run', write])).json.fault).toMatchObject({
      code: 'rights-violation',
      message: 'slot 20 holds a read-only page key to a data page, PAGEWRITE needs a read-write page key',
      line: 2,
    });
    const empty = file('empty.ism', 'CALL 21 0\n');
    expect((await keyvmJson(['run', empty])).json.fault).toMatchObject({
      code: 'null-key',
      message: 'slot 21 holds the null key, CALL needs a domain key for its target operand',
    });
  });

  it('blames a callee built without a STACK key, naming the slot', async () => {
    const build =
      '  CREATEPAGE 15 PAGE_KEYS MEMORY 28\n  ATTENUATE 15 CODE SELF CODE READ_ONLY\n  COPYKEY 15 TIME SELF TIME\n  MAKEDOMAIN 16 15\n';
    const word = await keyvmJson(['run', file('callw.ism', `${build}  CALLW 16 0 5\n`)]);
    expect(word.json.fault).toMatchObject({
      code: 'null-key',
      line: 5,
      message: expect.stringMatching(
        /^domain #\d+ cannot take the word: its slot 7 \(STACK\) holds the null key; it needs a page key$/,
      ),
    });
    const call = await keyvmJson(['run', file('call.ism', `${build}  CALL 16 0\n`)]);
    const fault = call.json.fault as { domain: number; message: string };
    expect(fault.message).toBe(
      `domain #${fault.domain} cannot run: its slot 7 (STACK) holds the null key; it needs a page key`,
    );
  });
});

describe('.include from disk', () => {
  it('resolves relative to the including file and locates errors in the included file', async () => {
    file('lib-twice.ism', 'twice:  SWAP\n        DUP\n        ADD\n        RTS 1\n');
    const main = file('use-lib.ism', '        JSR :twice, 21\n        HALT\n.include "lib-twice.ism"\n');
    const r = await keyvmJson(['run', main]);
    expect(r.json).toMatchObject({ status: 'halted', stack: [42] });
    file('lib-bad.ism', 'PUSH 1\nADDD\n');
    const bad = await keyvm(['run', file('use-bad.ism', '.include "lib-bad.ism"\n')]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toMatch(/lib-bad\.ism:2:1: error: unknown instruction 'ADDD'; did you mean 'ADD'\?/);
    const missing = await keyvm(['run', file('use-missing.ism', '.include "nowhere.ism"\n')]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/use-missing\.ism:1:10: error: cannot include 'nowhere\.ism': ENOENT/);
    // Never a device or a pipe, which could be read forever.
    const device = await keyvm(['run', file('use-device.ism', '.include "/dev/zero"\n')]);
    expect(device.code).toBe(4);
    expect(device.stderr).toContain("cannot include '/dev/zero': not a regular file");
    // Within --max-input: each file, and all of them together.
    file('lib-big.ism', `${'; padding\n'.repeat(300)}PUSH 1\n`);
    const capped = await keyvm([
      'run',
      file('use-big.ism', '.include "lib-big.ism"\nHALT\n'),
      '--max-input',
      '2K',
    ]);
    expect(capped.code).toBe(4);
    expect(capped.stderr).toMatch(
      /cannot include 'lib-big\.ism': 3007 bytes is more than 2048 \(--max-input\)/,
    );
    const both = await keyvm([
      'run',
      file('use-both.ism', '.include "lib-twice.ism"\n.include "lib-twice.ism"\nHALT\n'),
      '--max-input',
      '60',
    ]);
    expect(both.code).toBe(4);
    expect(both.stderr).toMatch(/the included files add up to more than 60 bytes \(--max-input\)/);
  });
});

describe('predefined names', () => {
  it('agree with the machine: the domain layout of @keyvm/core and the boot slots of the interpreter', () => {
    for (const [name, slot] of Object.entries(DomainSlot)) expect(PREDEFINED.get(name), name).toBe(slot);
    for (const [name, slot] of Object.entries(BootSlot))
      expect(PREDEFINED.get(name.toUpperCase()), name).toBe(slot);
  });
});

describe('debug information that does not fit', () => {
  it('is saved without source text, or not at all, rather than failing the save', () => {
    const state = encodeImage(new Store());
    const program = {
      codePage: 3,
      dataPage: 0,
      files: [{ name: 'big.ism', text: 'x'.repeat(MAX_DEBUG_BYTES) }],
      labels: [{ name: 'start', address: 0, section: 'code' as const }],
      sourceMap: [],
    };
    const saved = withDebugInfo(state, { programs: [program] });
    expect(imageDebugInfo(saved)).toEqual({ programs: [{ ...program, files: [{ name: 'big.ism' }] }] });
    const huge = { ...program, files: [{ name: 'x'.repeat(MAX_DEBUG_BYTES) }] };
    expect(withDebugInfo(state, { programs: [huge] })).toEqual(state);
    expect(withDebugInfo(state, undefined)).toBe(state);
  });
});

describe('names from a hostile debug section', () => {
  it('cannot drive the terminal: file names and labels are escaped in fault messages', async () => {
    const src = file('esc.ism', 'div(1, 0)\n');
    const saved = join(dir, 'esc.kvmi');
    await keyvm(['run', src, '--max-steps', '2', '--save', saved, '-q']);
    const bytes = readFileSync(saved);
    const state = bytes.subarray(0, stateLength(bytes));
    const debug = imageDebugInfo(bytes)!;
    const evil = {
      programs: debug.programs.map((p) => ({
        ...p,
        files: [{ name: '\x1b[2Jevil.ism', text: 'div(1, 0)\x1b]0;owned\x07\n' }],
        labels: [{ name: 'x\x1b[31m', address: 0, section: 'code' as const }],
      })),
    };
    const hostile = join(dir, 'hostile.kvmi');
    writeFileSync(hostile, attachDebugInfo(state, evil));
    const r = await keyvm(['resume', hostile]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('\x1b');
    expect(r.stderr).toContain('\\x1B[2Jevil.ism:1:1: fault: division-by-zero');
    expect(r.stderr).toContain('in x\\x1B[31m');
  });
});
