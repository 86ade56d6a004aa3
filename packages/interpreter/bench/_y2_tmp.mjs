import { DomainSlot, PageType } from '@keyvm/core';
import { Op } from '@keyvm/isa';
import { Machine } from '../dist/index.js';

function build(n, code) {
  const m = Machine.boot({ code: [Op.YIELD, Op.PUSH, 0, Op.JUMP] }, { quantum: 1 << 20 });
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
    slots[13] = root.slots[13];
    slots[DomainSlot.MEMORY] = mem;
    const page = store.deref(store.makeDomain(pageKey));
    page.slots[DomainSlot.STATE] = root.slots[DomainSlot.STATE];
    store.kernel.runQueue.push(page.id);
  }
  m.run({ gas: 10 * n + 100 });
  return m;
}
const reader = [Op.PUSH, 13, Op.PUSH, 0, Op.PUSH, 0, Op.DEVICE];
const n = Number(process.argv[2] ?? 0);
const m = build(n, reader);
console.log(m.store.kernel.runQueue.length, m.run({ gas: 1000 }));
const t0 = process.hrtime.bigint();
const r = m.run({ gas: 300_000 });
console.log(r, Number(process.hrtime.bigint() - t0) / r.gasUsed);
for (let i = 0; i < 5; i++) {
  const t0 = process.hrtime.bigint();
  const r = m.run({ gas: 3_000_000 });
  console.log(r.status, Number(process.hrtime.bigint() - t0) / r.gasUsed);
}
