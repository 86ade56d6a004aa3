// Hostile inputs through the real command: input caps, meters past the cap, bounded
// views (inspect, graph, disasm, traces) of machines a guest could build, failed
// trace writes, and stale temporary files. Sized for CI; each shows the bound holds.
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DomainSlot, type KeyPage, numberKey, PageType } from '@keyvm/core';
import { encodeImage } from '@keyvm/image';
import { Machine } from '@keyvm/interpreter';
import { Op } from '@keyvm/isa';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, keyvm, keyvmJson, tempDir } from './spawn.test-helpers.js';

const dir = tempDir();
const file = (name: string, bytes: Uint8Array | string): string => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};

/** An image whose root domain has a stack `depth` words deep (0, 1, 2, …) and runs `code`. */
function deepStackImage(name: string, depth: number, code: number[]): string {
  const stack = Int32Array.from({ length: depth }, (_, i) => i);
  const m = Machine.boot({ code }, { stack, devices: false });
  return file(name, encodeImage(m.store));
}

beforeAll(() => assertBuilt());

describe.concurrent('every verb reads at most --max-input bytes', () => {
  it('disasm /dev/zero stops at the cap with exit 4 and says so', async () => {
    if (!existsSync('/dev/zero')) return;
    const r = await keyvm(['disasm', '/dev/zero', '--max-input', '1M']);
    expect(r.code).toBe(4);
    expect(r.stderr).toBe(
      'keyvm: /dev/zero: the input is larger than 1,048,576 bytes (--max-input; raise it to read more)\n',
    );
  });

  it('stdin, a regular file and --input-file are capped too', async () => {
    const big = file('big.ism', `${'NOP\n'.repeat(5000)}`);
    for (const args of [
      ['run', '-', '--max-input', '4K'],
      ['asm', big, '-o', join(dir, 'big.kvm'), '--max-input', '4K'],
      ['run', big, '--max-input', '64K', '--input-file', file('huge.txt', 'x'.repeat(100_000))],
      ['inspect', big, '--max-input', '1K'],
    ]) {
      const r = await keyvm(args, { input: 'NOP\n'.repeat(5000) });
      expect(r.code, args.join(' ')).toBe(4);
      expect(r.stderr).toMatch(/the input is larger than [\d,]+ bytes \(--max-input/);
    }
    expect((await keyvm(['run', big, '--max-input', '64K', '-q'])).code).toBe(0);
  });

  it('refuses a size that is not one', async () => {
    const r = await keyvm(['ops', '--max-input', '12x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max-input/);
  });
});

describe.concurrent('meters holding absurd amounts run under the defaults', () => {
  it('a prime time meter of 2^53-1 is capped like unlimited: an endless loop stops out of gas', async () => {
    const m = Machine.boot({ code: [Op.PUSH, 0, Op.JUMP] }, { devices: false });
    m.store.primeTime.remaining = Number.MAX_SAFE_INTEGER;
    m.store.primeMemory.remaining = Number.MAX_SAFE_INTEGER;
    const image = file('huge-meter.kvmi', encodeImage(m.store));
    const r = await keyvmJson(['resume', image, '--gas', '1000']);
    expect(r.json).toMatchObject({ status: 'out-of-gas', gasUsed: 1000 });
    const capped = await keyvmJson(['resume', image]);
    expect(capped.code).toBe(3);
    expect(capped.json.gasUsed).toBe(10_000_000);
  });
});

describe.concurrent('traces show deep stacks bounded, and a failed trace write is exit 5', () => {
  let image: string;
  beforeAll(() => {
    image = deepStackImage('deep.kvmi', 200_000, [Op.DROP, Op.DROP, Op.PUSH, 5, Op.ADD]);
  });

  it('--trace=jsonl: the bottom and top 16 words and how many were left out', async () => {
    const r = await keyvm(['run', image, '--trace=jsonl', '-q']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(line.length).toBeLessThan(1000);
    const first = JSON.parse(lines[0]!) as { stack: number[]; stackOmitted: number };
    expect(first.stack).toHaveLength(32);
    expect(first.stack.slice(0, 3)).toEqual([0, 1, 2]);
    expect(first.stack.at(-1)).toBe(199_999);
    expect(first.stackOmitted).toBe(200_000 - 32);
  });

  it('--trace (text) shows the top of the stack only', async () => {
    const r = await keyvm(['run', image, '--trace', '-q']);
    expect(r.code).toBe(0);
    for (const line of r.stderr.trimEnd().split('\n')) expect(line.length).toBeLessThan(300);
  });

  it('a trace written to a full disk fails with exit 5', async () => {
    if (!existsSync('/dev/full')) return;
    for (const format of ['text', 'jsonl']) {
      const r = await keyvm(['run', image, `--trace=${format}`, '--trace-file', '/dev/full', '-q']);
      expect(r.code, format).toBe(5);
      expect(r.stderr).toBe("keyvm: cannot write '/dev/full': no space left on device (ENOSPC)\n");
    }
  });
});

describe.concurrent('inspect shows large machines in bounded form', () => {
  let image: string;
  const DOMAINS = 300;
  const DEPTH = 50_000;
  beforeAll(() => {
    // Many domains sharing one deep stack page (a guest can build this cheaply), and a
    // key page with many keys: inspect once copied every domain's whole stack.
    const stack = Int32Array.from({ length: DEPTH }, (_, i) => i);
    const m = Machine.boot({ code: [Op.HALT] }, { stack, devices: false });
    const store = m.store;
    const root = store.object(m.rootDomain) as KeyPage;
    const mem = root.slots[DomainSlot.MEMORY]!;
    for (let i = 0; i < DOMAINS; i++) {
      const kp = store.createPage(PageType.keys, mem, 12);
      store.makeDomain(kp);
      const page = store.object(kp.target) as KeyPage;
      page.slots[DomainSlot.STACK] = root.slots[DomainSlot.STACK]!;
      page.slots[DomainSlot.POINTER] = numberKey(DEPTH);
    }
    const many = store.createPage(PageType.keys, mem, 10_000);
    const slots = store.keyPage(many, true).slots;
    for (let i = 0; i < slots.length; i++) slots[i] = root.slots[DomainSlot.CODE]!;
    root.slots[20] = many;
    image = file('many.kvmi', encodeImage(store));
  });

  it('text: each stack its top 16 words, each key page its first and last 16 keys', async () => {
    const r = await keyvm(['inspect', image]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.length).toBeLessThan(DOMAINS * 600 + 20_000);
    expect(r.stdout).toContain(`sp ${DEPTH}, stack [… ${DEPTH - 16}`);
    expect(r.stdout).toContain('… 9,968 more keys');
    // A data page's words: the first and last 16 around a count (the stack page holds 0, 1, 2, …).
    const first = Array.from({ length: 16 }, (_, i) => i).join(' ');
    const last = Array.from({ length: 16 }, (_, i) => DEPTH - 16 + i).join(' ');
    expect(r.stdout).toContain(`[${first} … ${(DEPTH - 32).toLocaleString('en-US')} more words … ${last}]`);
  });

  it('--json: the same bounds, with counts of what was left out', async () => {
    const r = await keyvm(['inspect', image, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const view = JSON.parse(r.stdout) as {
      domains: { sp: number; stack: number[]; stackOmitted: number }[];
      pages: {
        size: number;
        slots?: unknown[];
        slotsOmitted?: number;
        words?: number[];
        wordsOmitted?: number;
      }[];
    };
    expect(view.domains).toHaveLength(DOMAINS + 1);
    for (const d of view.domains.filter((d) => d.sp === DEPTH)) {
      expect(d.stack).toHaveLength(32);
      expect(d.stackOmitted).toBe(DEPTH - 32);
    }
    const big = view.pages.find((p) => p.size === 10_000)!;
    expect(big.slots).toHaveLength(32);
    expect(big.slotsOmitted).toBe(10_000 - 32);
    const stackPage = view.pages.find((p) => p.size === DEPTH)!;
    expect(stackPage.words).toEqual([
      ...Array.from({ length: 16 }, (_, i) => i),
      ...Array.from({ length: 16 }, (_, i) => DEPTH - 16 + i),
    ]);
    expect(stackPage.wordsOmitted).toBe(DEPTH - 32);
  });
});

describe.concurrent('graph and disasm stay bounded', () => {
  it('graph draws at most --max-nodes objects and says how many it left out', async () => {
    const m = Machine.boot({ code: [Op.HALT] }, { devices: false });
    const store = m.store;
    const root = store.object(m.rootDomain) as KeyPage;
    const mem = root.slots[DomainSlot.MEMORY]!;
    const pages = store.createPage(PageType.keys, mem, 3000);
    const slots = store.keyPage(pages, true).slots;
    for (let i = 0; i < slots.length; i++) slots[i] = store.createPage(PageType.data, mem, 1);
    root.slots[20] = pages;
    const image = file('wide.kvmi', encodeImage(store));
    const dot = await keyvm(['graph', image, '--max-nodes', '100']);
    expect(dot.code, dot.stderr).toBe(0);
    expect(dot.stdout.match(/ \[shape=/g)).toHaveLength(100);
    expect(dot.stdout).toMatch(/\/\/ not drawn: 2,9\d\d objects and [\d,]+ keys \(raise --max-nodes/);
    const svg = await keyvm(['graph', image, '--svg', '--max-nodes', '100']);
    expect(svg.code).toBe(0);
    expect(svg.stdout.match(/<rect [^>]*stroke="#1f2937"/g)).toHaveLength(100);
    expect(svg.stdout).toContain('not drawn: 2,9');
  });

  it('disasm streams a large code page (to stdout and to a file); a full disk is exit 5', async () => {
    const WORDS = 1 << 20;
    const m = Machine.boot({ code: new Int32Array(WORDS) }, { devices: false });
    const image = file('bigcode.kvmi', encodeImage(m.store));
    const r = await keyvm(['disasm', image]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1 + WORDS / 2);
    expect(lines.at(-1)).toBe(`${String(WORDS - 2).padStart(7, '0')}: PUSH 0`);
    const out = join(dir, 'bigcode.txt');
    expect((await keyvm(['disasm', image, '-o', out])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(r.stdout);
    if (existsSync('/dev/full')) expect((await keyvm(['disasm', image, '-o', '/dev/full'])).code).toBe(5);
  });
});

describe('stale temporaries of an interrupted save', () => {
  it('the next save removes old ones of our naming, not a live one or somebody else’s file', async () => {
    const sub = tempDir();
    const target = join(sub, 'saved.kvmi');
    const stale = join(sub, '.saved.kvmi.0123456789abcdef.tmp');
    const live = join(sub, '.saved.kvmi.fedcba9876543210.tmp');
    const other = join(sub, '.saved.kvmi.notours.tmp');
    for (const f of [stale, live, other]) writeFileSync(f, 'left behind by kill -9');
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(stale, hourAgo, hourAgo);
    utimesSync(other, hourAgo, hourAgo);
    const program = file('halt.ism', 'HALT\n');
    const r = await keyvm(['run', program, '--save', target, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(sub).sort()).toEqual(
      ['.saved.kvmi.fedcba9876543210.tmp', '.saved.kvmi.notours.tmp', 'saved.kvmi'].sort(),
    );
  });
});
