// Host heap per object the store holds, measured, next to what the memory meter
// charges for it (MEMORY_CHARGES, words x 4 bytes) and the model of host cost the
// property test counts with (HOST_BYTES in src/host-memory.property.test.ts).
// Then a guest program's real heap growth against 4 x the words its meter spent.
// Run: node --expose-gc bench/host-cost.bench.mjs (pnpm bench does).
import { loadavg } from 'node:os';
import { MEMORY_CHARGES as C, DomainSlot, KeyKind, makeKey, PageType, Store } from '@keyvm/core';
import { Op } from '@keyvm/isa';
import { Machine } from '../dist/index.js';

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc');
const heap = () => {
  globalThis.gc();
  globalThis.gc();
  const u = process.memoryUsage();
  return u.heapUsed + u.arrayBuffers;
};
console.log(`load average at start: ${loadavg()[0].toFixed(2)}`);

/** The model the property test counts with (keep in step with HOST_BYTES there). */
const MODEL = {
  dataPage: 280,
  dataWord: 4,
  keyPage: 136,
  slot: 12,
  keyObject: 56,
  meter: 112,
  device: 112,
  id: 8,
  domain: 672,
};

const N = 100_000;
/** Heap bytes per call of `make(store, mem, i)`, kept alive by the store (minus the returned key, kept here). */
function perObject(make) {
  const s = new Store();
  const mem = s.meterKey(s.primeMemory, false);
  const keep = new Array(N);
  const keyCost = perKey();
  const h0 = heap();
  for (let i = 0; i < N; i++) keep[i] = make(s, mem, i);
  const h1 = heap();
  globalThis.sink = [s, keep];
  return (h1 - h0) / N - keyCost;
}
/** Heap bytes of a kept array slot plus a key object (what `perObject` keeps per call besides the object). */
function perKey() {
  const keep = new Array(N);
  const h0 = heap();
  for (let i = 0; i < N; i++) keep[i] = makeKey(KeyKind.page, i + 1, 0);
  const h1 = heap();
  globalThis.sink2 = keep;
  return (h1 - h0) / N;
}
const rows = [];
const row = (what, measured, model, charged) => rows.push({ what, measured, model, charged });

row(
  'data page of size 0 (with its id)',
  perObject((s, m) => s.createPage(PageType.data, m, 0)),
  MODEL.dataPage + MODEL.id,
  4 * (C.dataPage + C.id),
);
row(
  'key page of size 0 (with its id)',
  perObject((s, m) => s.createPage(PageType.keys, m, 0)),
  MODEL.keyPage + MODEL.id,
  4 * (C.keyPage + C.id),
);
row(
  'meter (with its id)',
  perObject((s, m) => s.createMeter(m, 5)),
  MODEL.meter + MODEL.id,
  4 * C.meter,
);
row(
  'device (with its id)',
  perObject((s) => s.createDevice(1)),
  MODEL.device + MODEL.id,
  4 * C.device,
);
row('key object', perKey() - 8, MODEL.keyObject, 0);
{
  const s = new Store();
  const mem = s.meterKey(s.primeMemory, false);
  const W = 1 << 22;
  const h0 = heap();
  const d = s.createPage(PageType.data, mem, W);
  const h1 = heap();
  row('data page word', (h1 - h0) / W, MODEL.dataWord, 4 * C.dataWord);
  const k = s.createPage(PageType.keys, mem, 1 << 20);
  const h2 = heap();
  row('key slot (null key)', (h2 - h1) / (1 << 20), MODEL.slot, 4 * C.keySlot);
  const page = s.keyPage(k, true);
  for (let i = 0; i < 1 << 20; i++) page.slots[i] = makeKey(KeyKind.readPage, d.target, 0);
  const h3 = heap();
  row('key slot with a key of its own', (h3 - h1) / (1 << 20), MODEL.slot + MODEL.keyObject, 4 * C.keySlot);
  const k2 = s.createPage(PageType.keys, mem, 0);
  const h4 = heap();
  s.resizePage(k2, 1 << 20);
  const h5 = heap();
  row('key slot grown by PAGESIZESET', (h5 - h4) / (1 << 20), MODEL.slot, 4 * C.keySlot);
  globalThis.sink3 = s;
}

// A domain: what making a key page a domain adds (its scheduling state), what the
// interpreter keeps on it once it has run (its run cache: resolved pages, page views,
// the CALL and RETURN targets it remembers; measured down a chain of N domains each
// called once, less the resume key each is handed), and the two page objects that
// cache may still name after they were destroyed (their words freed).
{
  const D = 20_000;
  const s = new Store();
  const mem = s.meterKey(s.primeMemory, false);
  const pages = Array.from({ length: D }, () => s.createPage(PageType.keys, mem, DomainSlot.RESUME + 1));
  const h0 = heap();
  for (const p of pages) s.makeDomain(p);
  const made = (heap() - h0) / D;
  globalThis.sink5 = s;
  const middle = [Op.PUSH, 15, Op.PUSH, 20, Op.CALL, Op.PUSH, 11, Op.PUSH, 20, Op.PUSH, 0, Op.RETURN];
  const last = [Op.PUSH, 11, Op.PUSH, 20, Op.PUSH, 0, Op.RETURN];
  const m = Machine.boot(
    { code: [Op.PUSH, 12, Op.PUSH, 20, Op.CALL, Op.HALT] },
    { devices: false, memory: 1e9 },
  );
  const store = m.store;
  const root = store.object(m.rootDomain);
  const rootMem = root.slots[DomainSlot.MEMORY];
  const codeKeys = [last, middle].map((words) => {
    const key = store.createPage(PageType.data, rootMem, words.length);
    store.dataPage(key, true).words.set(words);
    return key;
  });
  let next;
  for (let i = D; i >= 1; i--) {
    const pageKey = store.createPage(PageType.keys, rootMem, 28);
    const slots = store.keyPage(pageKey, true).slots;
    slots[DomainSlot.TIME] = root.slots[DomainSlot.TIME];
    slots[DomainSlot.CODE] = codeKeys[next === undefined ? 0 : 1];
    slots[DomainSlot.STACK] = store.createPage(PageType.data, rootMem, 8);
    if (next !== undefined) slots[15] = next;
    next = store.makeDomain(pageKey);
  }
  root.slots[12] = next;
  const h1 = heap();
  const result = m.run({ gas: 1e9 });
  if (result.status !== 'halted') throw new Error(`the domain chain did not halt: ${JSON.stringify(result)}`);
  const ran = (heap() - h1) / D - (perKey() - 8);
  globalThis.sink6 = m;
  // A destroyed data page's object, as a run cache may keep it (its words freed):
  // the heap with those objects held, less the heap once they are let go.
  let freedPage;
  {
    const s2 = new Store();
    const mem2 = s2.meterKey(s2.primeMemory, false);
    const keys = Array.from({ length: D }, () => s2.createPage(PageType.data, mem2, 16));
    let held = keys.map((k) => s2.dataPage(k, true));
    for (const k of keys) s2.destroyPage(k);
    keys.length = 0;
    const h2 = heap();
    held = null;
    const h3 = heap();
    freedPage = (h2 - h3) / D - 8; // less the array slot that held it
    globalThis.sink7 = [s2, held];
  }
  row(
    `domain (made ${made.toFixed(0)}, run cache ${ran.toFixed(0)}, 2 freed pages ${(2 * freedPage).toFixed(0)})`,
    made + ran + 2 * freedPage,
    MODEL.domain,
    4 * C.domain,
  );
}

console.log('| host cost of | measured bytes | model bytes | charged bytes (words x 4) |');
console.log('| --- | ---: | ---: | ---: |');
for (const r of rows)
  console.log(`| ${r.what} | ${r.measured.toFixed(1)} | ${r.model} | ${r.charged || '(in the slot)'} |`);
const under = rows.filter((r) => r.charged && r.measured > r.charged);
console.log(
  under.length === 0
    ? 'every charge covers its measured host cost'
    : `UNDERCHARGED: ${under.map((r) => r.what).join(', ')}`,
);

// A guest that fills its memory meter with pages of size 0, key pages of ATTENUATE-made
// keys and meters: real heap growth against 4 bytes per word spent.
{
  const P = (...w) => w.flatMap((x) => [Op.PUSH, x]);
  // biome-ignore format: one instruction per group
  const code = [
    ...P(16, 1, 1, 16), Op.CREATEPAGE,
    // loop at 9
    ...P(17, 0, 1, 0), Op.CREATEPAGE,
    ...P(18, 1, 1, 16), Op.CREATEPAGE,
    ...P(18, 0, 2, 8, 1), Op.ATTENUATE, ...P(18, 1, 2, 8, 1), Op.ATTENUATE,
    ...P(19, 0, 100), Op.CREATEMETER,
    ...P(9), Op.JUMP,
  ];
  const memory = 8_000_000;
  const h0 = heap();
  const m = Machine.boot({ code }, { memory, devices: false });
  const r = m.run({ gas: 1e9 });
  const h1 = heap();
  const spent = memory - m.store.primeMemory.remaining;
  console.log(
    `guest filling a ${memory}-word memory meter (${r.fault?.code ?? r.status}, ${m.store.objectCount} objects): ` +
      `heap grew ${((h1 - h0) / 1e6).toFixed(1)} MB for ${spent} words spent = ${((h1 - h0) / spent).toFixed(2)} bytes per word (promise: <= 4)`,
  );
  globalThis.sink4 = m;
}
console.log(`load average at end: ${loadavg()[0].toFixed(2)}`);
