// Host time per unit of gas, instruction family by family, in the worst case we can
// construct for each, as a ratio to the countdown loop measured in the same run:
// gas must follow host work (target: every row <= 50x). Run: pnpm bench.
import { loadavg } from 'node:os';
import { DomainSlot, LIMITS, PageType } from '@keyvm/core';
import { Op } from '@keyvm/isa';
import { Machine } from '../dist/index.js';

const P = (...words) => words.flatMap((w) => [Op.PUSH, w]);
const FREE = 16;

/** Host nanoseconds per gas of one run of `build()`'s machine (set up outside the timing) for `gas`. */
function timeRun(build, gas) {
  const m = build();
  const t0 = process.hrtime.bigint();
  const res = m.run({ gas });
  const dt = Number(process.hrtime.bigint() - t0);
  if (res.status !== 'out-of-gas' && res.status !== 'halted')
    throw new Error(`bad run: ${JSON.stringify(res)}`);
  return dt / res.gasUsed;
}

/**
 * Host ns per gas of `build()` and of the countdown loop, each the best of `rounds`
 * (after a warm-up of each) with the two taken in turn, so a busy spell of the
 * machine slows one round of each rather than all of one: on a shared machine the
 * ratio holds where the figures do not.
 */
function nsPerGas(build, gas, rounds = 4) {
  let best = Number.POSITIVE_INFINITY;
  let base = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds + 1; r++) {
    const b = timeRun(baseline, BASELINE_GAS);
    const t = timeRun(build, gas);
    if (r === 0) continue;
    base = Math.min(base, b);
    best = Math.min(best, t);
  }
  return { ns: best, base };
}

const boot = (code, options = {}) => Machine.boot({ code }, { devices: false, quantum: 1 << 30, ...options });
/** A loop: `body` then jump back to its start (after `prologue`). */
const loop = (prologue, body) => {
  const start = prologue.length;
  return [...prologue, ...body, ...P(start), Op.JUMP];
};

const rows = [];
const row = (family, worst, build, gas) => rows.push({ family, worst, ...nsPerGas(build, gas) });

console.log(`load average at start: ${loadavg()[0].toFixed(2)} (other processes slow every figure)`);

// Baseline: the countdown loop (compiled), as in interpreter.bench.mjs, timed beside every row.
const countdown = [Op.PUSH, 1 << 30, Op.PUSH, 1, Op.SUB, Op.DUP, Op.PUSH, 2, Op.SWAP, Op.JUMPIF, Op.HALT];
const baseline = () => boot(countdown);
const BASELINE_GAS = 30_000_000;
row('baseline', 'countdown loop (compiled)', baseline, BASELINE_GAS);
row('arith', 'countdown loop, JIT off', () => boot(countdown, { jit: false }), 20_000_000);

// Self-modifying code: a 4096-word page that writes into itself on every pass, so
// whatever was compiled from it is out of date each time it has warmed up again.
{
  const W = 4096;
  const page = new Array(W).fill(Op.NOP);
  // 0: PUSH 6, JUMP (over the word at 5, which the loop writes); ...NOPs...; the write; back to 6.
  page.splice(0, 3, Op.PUSH, 6, Op.JUMP);
  // Pushes 5, 5, 5: either operand order of PAGEWRITE writes word 5 at index 5 of the CODE page (slot 5).
  const tail = [...P(5, 5, 5), Op.PAGEWRITE, ...P(6), Op.JUMP];
  page.splice(W - tail.length, tail.length, ...tail);
  row('jit', `self-modifying ${W}-word code page`, () => boot(page), 20_000_000);
}

// Pages: resizing between the largest size and 0, and at the largest size each costs nothing for.
const resize = (type, big, small) => () =>
  boot(
    loop(P(FREE, type, DomainSlot.MEMORY, small).concat(Op.CREATEPAGE), [
      ...P(FREE, big),
      Op.PAGESIZESET,
      ...P(FREE, small),
      Op.PAGESIZESET,
    ]),
  );
row('page', 'PAGESIZESET key page 0 <-> 2^20 slots', resize(PageType.keys, 1 << 20, 0), 20_000_000);
row('page', 'PAGESIZESET key page 0 <-> 1024 slots', resize(PageType.keys, 1024, 0), 5_000_000);
row('page', 'PAGESIZESET data page 0 <-> 2^24 words', resize(PageType.data, 1 << 24, 0), 60_000_000);
row('page', 'PAGESIZESET data page 0 <-> 1024 words', resize(PageType.data, 1024, 0), 5_000_000);
// A typed array of more than 16 words is allocated outside V8's heap (1-4 us each, about
// the same from 17 words to 1,024): pages just past that size are the costliest per gas.
row('page', 'PAGESIZESET data page 0 <-> 64 words', resize(PageType.data, 64, 0), 5_000_000);
const createDestroy = (type, size) => () =>
  boot(loop([], [...P(FREE, type, DomainSlot.MEMORY, size), Op.CREATEPAGE, ...P(FREE), Op.DESTROY]));
row('page', 'CREATEPAGE + DESTROY key page of 1024', createDestroy(PageType.keys, 1024), 5_000_000);
row('page', 'CREATEPAGE + DESTROY data page of 1024', createDestroy(PageType.data, 1024), 5_000_000);
row('page', 'CREATEPAGE + DESTROY data page of 0', createDestroy(PageType.data, 0), 5_000_000);
row('page', 'CREATEPAGE + DESTROY data page of 64', createDestroy(PageType.data, 64), 5_000_000);
row('page', 'CREATEPAGE + DESTROY data page of 256', createDestroy(PageType.data, 256), 5_000_000);
row(
  'page',
  'PAGEREAD + PAGEWRITE',
  () =>
    boot(
      loop(
        [],
        [
          ...P(DomainSlot.DATA, 3),
          Op.PAGEREAD,
          ...P(DomainSlot.DATA),
          Op.SWAP,
          ...P(3),
          Op.SWAP,
          Op.DROP,
          Op.DROP,
          Op.DROP,
        ],
      ),
    ),
  5_000_000,
);

// Keys.
row(
  'key',
  'ATTENUATE a page key (a new key object)',
  () => boot(loop([], [...P(DomainSlot.SELF, FREE, DomainSlot.SELF, DomainSlot.DATA, 1), Op.ATTENUATE])),
  5_000_000,
);
row(
  'key',
  'NUMKEY of a large word (a new key object)',
  () => boot(loop([Op.PUSH, 1 << 20], [Op.PUSH, 1, Op.ADD, Op.DUP, ...P(FREE), Op.SWAP, Op.NUMKEY])),
  5_000_000,
);
// A special slot goes to the heavy handler (a general one runs inline, through the page views).
row(
  'key',
  'NUMKEY of a large word into RECV (the heavy handler)',
  () =>
    boot(loop([Op.PUSH, 1 << 20], [Op.PUSH, 1, Op.ADD, Op.DUP, ...P(DomainSlot.RECV), Op.SWAP, Op.NUMKEY])),
  5_000_000,
);
row(
  'key',
  'SEVER a page key',
  () => boot(loop(P(FREE, 0, DomainSlot.MEMORY, 4).concat(Op.CREATEPAGE), [...P(FREE), Op.SEVER])),
  5_000_000,
);

// SEVER at the u32 version limit (an image can hold every object there): each SEVER
// nulls every key to its object, walking the store. 20,000 key pages at the limit,
// their keys in a key page in slot 20; the loop severs each in turn (index in DATA[0]).
{
  const build = () => {
    // biome-ignore format: one instruction per group
    const code = loop([], [
      ...P(DomainSlot.SELF, FREE, 20, DomainSlot.DATA, 0), Op.PAGEREAD, Op.COPYKEY,
      ...P(FREE), Op.SEVER,
      ...P(DomainSlot.DATA, 0), Op.PAGEREAD, ...P(1), Op.ADD, ...P(DomainSlot.DATA, 0), Op.PAGEWRITE,
    ]);
    const m = boot(code);
    const store = m.store;
    const root = store.object(m.rootDomain);
    const mem = root.slots[DomainSlot.MEMORY];
    const n = 20_000;
    const holder = store.createPage(PageType.keys, mem, n);
    const slots = store.keyPage(holder, true).slots;
    for (let i = 0; i < n; i++) {
      const page = store.keyPage(store.createPage(PageType.keys, mem, 4), true);
      page.version = 0xffff_ffff;
      slots[i] = store.pageKey(page);
    }
    root.slots[20] = holder;
    return m;
  };
  row('key', 'SEVER at the version limit, 20,000 objects', build, 20_000_000);
}

// Meters, the running domain as deep as meters go (LIMITS.maxMeterDepth).
const deep =
  (code, depth = LIMITS.maxMeterDepth) =>
  () => {
    const m = boot(code);
    const store = m.store;
    const root = store.object(m.rootDomain);
    let key = store.meterKey(store.primeTime, true);
    for (let i = 1; i < depth; i++) key = store.createMeter(key, 1e15);
    root.slots[DomainSlot.TIME] = key;
    return m;
  };
row(
  'meter',
  `METERREAD ${LIMITS.maxMeterDepth} meters deep`,
  deep(loop([], [...P(DomainSlot.TIME), Op.METERREAD, Op.DROP])),
  5_000_000,
);
row(
  'meter',
  `METERSET ${LIMITS.maxMeterDepth} meters deep`,
  deep(loop([], [...P(DomainSlot.TIME, -1), Op.METERSET])),
  5_000_000,
);
row(
  'meter',
  `CREATEMETER ${LIMITS.maxMeterDepth} meters deep`,
  deep(loop([], [...P(FREE, DomainSlot.TIME, 5), Op.CREATEMETER])),
  5_000_000,
);
row(
  'key',
  `SEVER the running domain's meter, ${LIMITS.maxMeterDepth} deep`,
  deep(loop([], [...P(DomainSlot.TIME), Op.SEVER])),
  5_000_000,
);

// Control: scheduling among many domains, and calls between domains on deep meters.
function many(n, code, rootCode) {
  return () => {
    const m = Machine.boot({ code: rootCode }, { quantum: 1 << 20, devices: false });
    const store = m.store;
    const root = store.object(m.rootDomain);
    const mem = root.slots[DomainSlot.MEMORY];
    const codeKey = store.createPage(PageType.data, mem, code.length);
    store.dataPage(codeKey, true).words.set(code);
    for (let i = 0; i < n; i++) {
      const pageKey = store.createPage(PageType.keys, mem, 28);
      const slots = store.keyPage(pageKey, true).slots;
      slots[DomainSlot.TIME] = root.slots[DomainSlot.TIME];
      slots[DomainSlot.CODE] = codeKey;
      slots[DomainSlot.STACK] = store.createPage(PageType.data, mem, 4);
      const page = store.deref(store.makeDomain(pageKey));
      page.slots[DomainSlot.STATE] = root.slots[DomainSlot.STATE];
      store.kernel.runQueue.push(page.id);
    }
    return m;
  };
}
const yielder = [Op.YIELD, Op.PUSH, 0, Op.JUMP];
row('control', 'YIELD among 20,000 yielding domains', many(20_000, yielder, yielder), 2_000_000);
row('control', 'YIELD among 20,000 halted domains', many(20_000, [Op.HALT], yielder), 2_000_000);
{
  // 20,000 domains blocked reading input (they ran once, outside the timing, and block):
  // the root's YIELD must not walk them.
  const reader = [Op.PUSH, 13, Op.PUSH, 0, Op.PUSH, 0, Op.DEVICE];
  const build = () => {
    const m = Machine.boot({ code: yielder }, { quantum: 1 << 20 });
    const store = m.store;
    const root = store.object(m.rootDomain);
    const mem = root.slots[DomainSlot.MEMORY];
    const codeKey = store.createPage(PageType.data, mem, reader.length);
    store.dataPage(codeKey, true).words.set(reader);
    for (let i = 0; i < 20_000; i++) {
      const pageKey = store.createPage(PageType.keys, mem, 28);
      const slots = store.keyPage(pageKey, true).slots;
      slots[DomainSlot.TIME] = root.slots[DomainSlot.TIME];
      slots[DomainSlot.MEMORY] = mem;
      slots[DomainSlot.CODE] = codeKey;
      slots[DomainSlot.STACK] = store.createPage(PageType.data, mem, 4);
      slots[13] = root.slots[13]; // the input device
      const page = store.deref(store.makeDomain(pageKey));
      page.slots[DomainSlot.STATE] = root.slots[DomainSlot.STATE];
      store.kernel.runQueue.push(page.id);
    }
    const r = m.run({ gas: 300_000 });
    if (r.status !== 'out-of-gas' || store.kernel.runQueue.length !== 20_000)
      throw new Error(`bad blocked set-up ${JSON.stringify(r)}`);
    return m;
  };
  row('control', 'YIELD among 20,000 domains blocked on input', build, 2_000_000);
}
{
  // CALL + RETURN with the callee as deep as meters go.
  const server = [...P(11, 20, 0), Op.RETURN, ...P(0), Op.JUMP];
  const build = () => {
    const m = boot(loop([], [...P(12, 20), Op.CALL]));
    const store = m.store;
    const root = store.object(m.rootDomain);
    const mem = root.slots[DomainSlot.MEMORY];
    const codeKey = store.createPage(PageType.data, mem, server.length);
    store.dataPage(codeKey, true).words.set(server);
    const pageKey = store.createPage(PageType.keys, mem, 28);
    const slots = store.keyPage(pageKey, true).slots;
    let key = root.slots[DomainSlot.TIME];
    for (let i = 1; i < LIMITS.maxMeterDepth; i++) key = store.createMeter(key, 1e15);
    slots[DomainSlot.TIME] = key;
    slots[DomainSlot.CODE] = codeKey;
    slots[DomainSlot.STACK] = store.createPage(PageType.data, mem, 16);
    root.slots[12] = store.makeDomain(pageKey);
    return m;
  };
  row('control', `CALL + RETURN, callee ${LIMITS.maxMeterDepth} meters deep`, build, 5_000_000);
}
// MAKEDOMAIN on fresh key pages.
row(
  'domain',
  'CREATEPAGE 28 slots + MAKEDOMAIN',
  () =>
    boot(
      loop(
        [],
        [...P(FREE, PageType.keys, DomainSlot.MEMORY, 28), Op.CREATEPAGE, ...P(17, FREE), Op.MAKEDOMAIN],
      ),
    ),
  5_000_000,
);

// Heavy instructions at the table's floor: each leaves compiled code for the
// interpreter and comes back, whatever small work it does. Loops of one such
// instruction with as little compiled work around it as possible.
row('page', 'PAGETYPE', () => boot(loop([], [...P(DomainSlot.DATA), Op.PAGETYPE, Op.DROP])), 5_000_000);
row(
  'key',
  'COPYKEY a page key',
  () => boot(loop([], [...P(DomainSlot.SELF, FREE, DomainSlot.SELF, DomainSlot.DATA), Op.COPYKEY])),
  5_000_000,
);
row(
  'meter',
  'METERKEEPER nobody on a child meter',
  () =>
    boot(loop(P(FREE, DomainSlot.TIME, -1).concat(Op.CREATEMETER), [...P(FREE, FREE + 1), Op.METERKEEPER])),
  5_000_000,
);
row(
  'meter',
  'METERREAD 1 meter deep',
  () => boot(loop([], [...P(DomainSlot.TIME), Op.METERREAD, Op.DROP])),
  5_000_000,
);
row(
  'key',
  'KEYTYPE + KEYNUM, JIT off',
  () =>
    boot(
      loop(P(FREE, 7).concat(Op.NUMKEY), [...P(FREE), Op.KEYTYPE, ...P(FREE), Op.KEYNUM, Op.DROP, Op.DROP]),
      { jit: false },
    ),
  5_000_000,
);
row('control', 'PUSH + JUMP loop, JIT off', () => boot(loop([], []), { jit: false }), 5_000_000);
row(
  'page',
  'PAGEREAD, JIT off',
  () => boot(loop([], [...P(DomainSlot.DATA, 3), Op.PAGEREAD, Op.DROP]), { jit: false }),
  5_000_000,
);
{
  // DEVICE: the clock (deterministic: reads the step count), and input's pending count.
  const dev = (slot, op) => () =>
    Machine.boot({ code: loop([], [...P(slot, op, 0), Op.DEVICE, Op.DROP]) }, { quantum: 1 << 30 });
  row('device', 'DEVICE clock now', dev(14, 0), 5_000_000);
  row('device', 'DEVICE input pending', dev(13, 1), 5_000_000);
}
{
  // FORK: the root starts 30,000 available domains in turn (their gate keys in a key
  // page in slot 20, the index in DATA[0]); they queue behind it and never run.
  const n = 30_000;
  const build = () => {
    // biome-ignore format: one instruction per group
    const code = loop([], [
      ...P(DomainSlot.SELF, FREE, 20, DomainSlot.DATA, 0), Op.PAGEREAD, Op.COPYKEY,
      ...P(FREE, FREE), Op.FORK,
      ...P(DomainSlot.DATA, 0), Op.PAGEREAD, ...P(1), Op.ADD, ...P(DomainSlot.DATA, 0), Op.PAGEWRITE,
    ]);
    const m = boot(code);
    const store = m.store;
    const root = store.object(m.rootDomain);
    const mem = root.slots[DomainSlot.MEMORY];
    const codeKey = store.createPage(PageType.data, mem, 1);
    store.dataPage(codeKey, true).words.set([Op.HALT]);
    const holder = store.createPage(PageType.keys, mem, n);
    const gates = store.keyPage(holder, true).slots;
    for (let i = 0; i < n; i++) {
      const pageKey = store.createPage(PageType.keys, mem, 28);
      const slots = store.keyPage(pageKey, true).slots;
      slots[DomainSlot.TIME] = root.slots[DomainSlot.TIME];
      slots[DomainSlot.CODE] = codeKey;
      slots[DomainSlot.STACK] = store.createPage(PageType.data, mem, 4);
      gates[i] = store.makeDomain(pageKey);
    }
    root.slots[20] = holder;
    return m;
  };
  row('control', 'FORK 30,000 domains in turn', build, 800_000);
}

console.log(
  'host ns per gas, worst case per family, vs the countdown loop timed beside each (target <= 50x):',
);
console.log('| family | worst case | ns/gas | countdown ns/gas | x countdown | <= 50x |');
console.log('| --- | --- | ---: | ---: | ---: | :---: |');
for (const r of rows) {
  r.ratio = r.ns / r.base;
  console.log(
    `| ${r.family} | ${r.worst} | ${r.ns.toFixed(2)} | ${r.base.toFixed(2)} | ${r.ratio.toFixed(1)} | ${r.ratio <= 50 ? 'PASS' : 'FAIL'} |`,
  );
}
const worst = rows.slice(1).reduce((a, b) => (b.ratio > a.ratio ? b : a));
const failed = rows.filter((r) => r.ratio > 50).length;
console.log(
  `worst: ${worst.worst}, ${worst.ratio.toFixed(1)}x; ${failed === 0 ? 'PASS: every row' : `FAIL: ${failed} rows over`} <= 50x; ` +
    `load average at end: ${loadavg()[0].toFixed(2)}`,
);
