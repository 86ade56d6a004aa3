// Faults name their domain as the source does, through the real command: a domain by
// the label of the code it was made to start at (the root domain: pc 0), kept in saved
// images' debug section, escaped when a hostile section names it, by number without one.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attachDebugInfo, imageDebugInfo, stateLength } from '@keyvm/image';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, EXAMPLES, keyvm, keyvmJson, tempDir, writerIn } from './spawn.test-helpers.js';

const dir = tempDir();
const file = writerIn(dir);

beforeAll(assertBuilt);

/** The root domain makes a domain entered at `worker` and calls it; the worker divides by zero. */
const CHILD = `; a child domain that faults
.const PAGE 15
.const STACK2 16
.const SCRATCH 20
.const WORKER 21
.const NOTHING 27
        CREATEPAGE PAGE PAGE_KEYS MEMORY DOMAIN_SLOTS
        CREATEPAGE STACK2 PAGE_DATA MEMORY 64
        COPYKEY PAGE STACK SELF STACK2
        ATTENUATE PAGE CODE SELF CODE READ_ONLY
        COPYKEY PAGE TIME SELF TIME
        NUMKEY SCRATCH :worker
        COPYKEY PAGE IP SELF SCRATCH
        MAKEDOMAIN WORKER PAGE
        CALLW WORKER NOTHING 21
        HALT
worker: DUP
        ADD
        div(1, 0)
        HALT
`;
/** Steps of CHILD: MAKEDOMAIN is step 37, the faulting DIV step 46. */
const BEFORE_MAKEDOMAIN = 20;
const AFTER_MAKEDOMAIN = 38;

/** The root domain starts at `main`; the fault is in the routine `oops`. */
const ROOT = `main:   PUSH 5
        JSR :oops
        HALT
oops:   div(7, 0)
        RTS
`;

const childFault =
  /child\.ism:19:9: fault: division-by-zero in domain worker #(\d+) \(pc \d+\): DIV by zero\n {2}\s+div\(1, 0\)\n/;

describe('a fault names its domain by the label it starts at', () => {
  it('a child domain made at a label: text, --json, a jsonl trace and inspect', async () => {
    const src = file('child.ism', CHILD);
    const r = await keyvm(['run', src]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(childFault);
    const id = Number(childFault.exec(r.stderr)![1]);
    expect(id).not.toBe(6);

    const json = await keyvmJson(['run', src]);
    expect(json.json.fault).toMatchObject({
      code: 'division-by-zero',
      domain: id,
      line: 19,
      label: 'worker',
      domainName: 'worker',
    });

    const traced = await keyvm(['run', src, '--trace=jsonl', '--trace-file', '-']);
    const summary = JSON.parse(traced.stdout.trimEnd().split('\n').at(-1)!) as Record<string, unknown>;
    expect(summary.fault).toMatchObject({ code: 'division-by-zero', domain: id, domainName: 'worker' });

    const saved = join(dir, 'child.kvmi');
    expect((await keyvm(['run', src, '--save', saved, '-q'])).code).toBe(1);
    const shown = await keyvm(['inspect', saved]);
    expect(shown.stdout).toContain(`fault division-by-zero (3) at pc `);
    expect(shown.stdout).toMatch(new RegExp(`in domain worker #${id} \\(.*child\\.ism:19:9\\)`));
    expect(shown.stdout).toMatch(new RegExp(`\\n  #${id} worker  `));
    expect(shown.stdout).toMatch(/\n {2}#6 \(root\) {2}/);
    const view = JSON.parse((await keyvm(['inspect', saved, '--json'])).stdout) as {
      kernel: { fault: Record<string, unknown> };
      domains: { id: number; name?: string }[];
    };
    expect(view.kernel.fault).toMatchObject({ domain: id, domainName: 'worker' });
    expect(view.domains.map((d) => [d.id, d.name])).toEqual([
      [6, undefined],
      [id, 'worker'],
    ]);
  });

  it('the root domain by the label at pc 0, beside the routine the fault is in', async () => {
    const src = file('root.ism', ROOT);
    const r = await keyvm(['run', src]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${src}:4:9: fault: division-by-zero in the root domain main #6 (pc 12, in oops): DIV by zero\n  oops:   div(7, 0)\n          ^\n`,
    );
    expect((await keyvmJson(['run', src])).json.fault).toMatchObject({ label: 'oops', domainName: 'main' });
  });

  it('a domain of a language program by its domain declaration (a keeper that faults)', async () => {
    const sandbox = readFileSync(join(EXAMPLES, 'sandbox.kl'), 'utf8');
    expect(sandbox).toContain('        return code\n');
    const src = file('keeper.kl', sandbox.replace('        return code\n', '        return code / 0\n'));
    const r = await keyvm(['run', src]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /keeper\.kl:17:21: fault: division-by-zero in domain Keeper #\d+ \(pc \d+, in Keeper\.on_fault\): DIV by zero\n/,
    );
    expect((await keyvmJson(['run', src])).json.fault).toMatchObject({
      label: 'Keeper.on_fault',
      domainName: 'Keeper',
    });
    // Saved before the keeper was spawned: resumed, and inspected once it faulted.
    const saved = join(dir, 'keeper.kvmi');
    expect((await keyvm(['run', src, '--max-steps', '100', '--save', saved, '-q'])).code).toBe(7);
    const resumed = await keyvm(['resume', saved, '--save', saved]);
    expect(resumed.stderr).toMatch(/in domain Keeper #\d+ \(pc \d+, in Keeper\.on_fault\): DIV by zero\n/);
    const view = JSON.parse((await keyvm(['inspect', saved, '--json'])).stdout) as {
      kernel: { fault: Record<string, unknown> };
    };
    expect(view.kernel.fault).toMatchObject({ label: 'Keeper.on_fault', domainName: 'Keeper' });
  });
});

describe('resumed images still name the domain', () => {
  it('made before the save (kept in the debug section) or after it (recorded on resume)', async () => {
    const src = file('child2.ism', CHILD);
    for (const steps of [BEFORE_MAKEDOMAIN, AFTER_MAKEDOMAIN]) {
      const saved = join(dir, `child2-${steps}.kvmi`);
      expect((await keyvm(['run', src, '--max-steps', String(steps), '--save', saved, '-q'])).code).toBe(7);
      const records = imageDebugInfo(readFileSync(saved))?.domains ?? [];
      expect(records.length).toBe(steps === BEFORE_MAKEDOMAIN ? 1 : 2);
      // Saved again part way, the records go along.
      const again = join(dir, `child2-${steps}-again.kvmi`);
      expect((await keyvm(['resume', saved, '--max-steps', '2', '--save', again, '-q'])).code).toBe(7);
      for (const image of [saved, again]) {
        const r = await keyvm(['resume', image]);
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/fault: division-by-zero in domain worker #\d+ \(pc \d+\): DIV by zero/);
      }
    }
  });
});

describe('without a name', () => {
  it('falls back to the number: a stripped program, an image without a debug section', async () => {
    const src = file('child3.ism', CHILD);
    const kvm = join(dir, 'child3.kvm');
    expect((await keyvm(['asm', src, '--strip', '-o', kvm])).code).toBe(0);
    const stripped = await keyvm(['run', kvm]);
    expect(stripped.stderr).toMatch(/^fault: division-by-zero at pc \d+ in domain #\d+: DIV by zero\n/);
    expect((await keyvmJson(['run', kvm])).json.fault).not.toHaveProperty('domainName');

    const saved = join(dir, 'child3.kvmi');
    await keyvm(['run', src, '--max-steps', String(AFTER_MAKEDOMAIN), '--save', saved, '-q']);
    const bytes = readFileSync(saved);
    const bare = join(dir, 'child3-bare.kvmi');
    writeFileSync(bare, bytes.subarray(0, stateLength(bytes)));
    const r = await keyvm(['resume', bare]);
    expect(r.stderr).toMatch(/^fault: division-by-zero at pc \d+ in domain #\d+: DIV by zero\n/);

    // A debug section of format 1 (before domain records): source lines, no names.
    const old = join(dir, 'child3-v1.kvmi');
    const { programs } = imageDebugInfo(bytes)!;
    writeFileSync(old, attachDebugInfo(bytes.subarray(0, stateLength(bytes)), { programs }));
    expect(new DataView(readFileSync(old).buffer).getUint32(stateLength(bytes) + 8, true)).toBe(1);
    const v1 = await keyvm(['resume', old]);
    expect(v1.stderr).toMatch(
      /child3\.ism:19:9: fault: division-by-zero in domain #\d+ \(pc \d+, in worker\): /,
    );
  });

  it('a name from a hostile debug section is quoted, escaped and bounded', async () => {
    const src = file('child4.ism', CHILD);
    const saved = join(dir, 'child4.kvmi');
    await keyvm(['run', src, '--max-steps', String(AFTER_MAKEDOMAIN), '--save', saved, '-q']);
    const bytes = readFileSync(saved);
    const state = bytes.subarray(0, stateLength(bytes));
    const info = imageDebugInfo(bytes)!;
    const evil = `\x1b[2J\x1b]0;pwned\x07"\\${'x'.repeat(100)}\n`;
    const hostile = join(dir, 'hostile.kvmi');
    writeFileSync(
      hostile,
      attachDebugInfo(state, {
        ...info,
        programs: info.programs.map((p) => ({
          ...p,
          labels: p.labels.map((l) => (l.name === 'worker' ? { ...l, name: evil } : l)),
        })),
      }),
    );
    for (const args of [
      ['resume', hostile],
      ['inspect', hostile],
    ]) {
      const r = await keyvm(args);
      const out = r.stdout + r.stderr;
      // No control character but the line breaks reaches the terminal.
      expect([...out].filter((c) => (c < ' ' && c !== '\n') || c === '\x7f')).toEqual([]);
      expect(out).toContain(`"\\x1B[2J\\x1B]0;pwned\\x07\\"\\\\${'x'.repeat(48)}…"`);
    }
    const json = await keyvmJson(['resume', hostile]);
    expect((json.json.fault as Record<string, unknown>).domainName).toBe(evil);
  });
});
