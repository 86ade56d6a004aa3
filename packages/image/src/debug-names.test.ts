// Unit tests of the domain records behind fault names: what the recorder keeps (and
// drops, and goes on with across machines), and how a record becomes a name.
import { DOMAIN_SLOTS, DomainSlot, numberKey, PageType, Store } from '@keyvm/core';
import { describe, expect, it } from 'vitest';
import type { ImageDebugInfo } from './debug.js';
import { DomainRecorder, domainNamer, liveDebugInfo } from './debug-names.js';

const program = (codePage: number, labels: [string, number][], file = 'p.ism') => ({
  codePage,
  dataPage: 0,
  files: [{ name: file }],
  labels: labels.map(([name, address]) => ({ name, address, section: 'code' as const })),
  sourceMap: [],
});

/** A store with a code page and a way to make domains entered at a pc of it. */
function machine() {
  const s = new Store();
  const mem = s.meterKey(s.primeMemory, true);
  const code = s.createPage(PageType.data, mem, 16);
  /** A new domain entered at `entry`: its page key (its id is the key's target). */
  const make = (entry: number) => {
    const page = s.createPage(PageType.keys, mem, DOMAIN_SLOTS);
    s.setSlot(page, DomainSlot.CODE, s.attenuate(code, 1));
    s.setSlot(page, DomainSlot.TIME, s.meterKey(s.primeTime, false));
    s.setSlot(page, DomainSlot.IP, numberKey(entry));
    s.makeDomain(page);
    return page;
  };
  return { s, mem, codePage: code.target, make };
}

describe('DomainRecorder', () => {
  it('records each domain made with its code page and entry pc, on top of what the image had', () => {
    const { s, codePage, make } = machine();
    const base: ImageDebugInfo = {
      programs: [
        program(codePage, [
          ['main', 0],
          ['worker', 5],
        ]),
      ],
      domains: [{ domain: 1000, codePage, entry: 0 }],
    };
    const recorder = new DomainRecorder(s, base);
    const a = make(5).target;
    recorder.detach();
    make(7); // not recorded: detached
    expect(recorder.info()).toEqual({
      programs: base.programs,
      domains: [
        { domain: a, codePage, entry: 5 },
        { domain: 1000, codePage, entry: 0 },
      ],
    });
    // Saved, only records of live domains whose program is kept go along.
    expect(liveDebugInfo(s, recorder.info())?.domains).toEqual([{ domain: a, codePage, entry: 5 }]);
  });

  it('records nothing without programs to name domains from', () => {
    const { s, make } = machine();
    const recorder = new DomainRecorder(s, undefined);
    make(0);
    expect(recorder.info()).toBeUndefined();
    expect(s.onDomainMade).toBeNull();
  });

  it('goes on recording on the machine it is attached to next, and stops on the last', () => {
    // Two stores built alike, as a debugger's machine and the one it rewinds to.
    const first = machine();
    const second = machine();
    const recorder = new DomainRecorder(first.s, { programs: [program(first.codePage, [['w', 3]])] });
    const a = first.make(3).target;
    recorder.attach(second.s);
    expect(first.s.onDomainMade).toBeNull();
    first.make(4); // the old machine is no longer recorded
    const b = second.make(2).target;
    const c = second.make(3).target;
    // The same id on both machines (built alike): the later record is the one kept.
    expect(b).toBe(a);
    expect(recorder.info()?.domains).toEqual([
      { domain: b, codePage: second.codePage, entry: 2 },
      { domain: c, codePage: second.codePage, entry: 3 },
    ]);
    recorder.detach();
    expect(second.s.onDomainMade).toBeNull();
  });

  it('drops records of domains gone, so what it holds follows the live domains', () => {
    const { s, codePage, make } = machine();
    const recorder = new DomainRecorder(s, { programs: [program(codePage, [])] });
    for (let i = 0; i < 5000; i++) s.destroyPage(make(i));
    const live = make(1).target;
    const kept = recorder.info()?.domains ?? [];
    expect(kept.length).toBeLessThanOrEqual(1024);
    expect(kept.map((d) => d.domain)).toContain(live);
    expect(liveDebugInfo(s, recorder.info())?.domains).toEqual([{ domain: live, codePage, entry: 1 }]);
  });
});

describe('domainNamer', () => {
  it('names a domain by the code label at its entry, the first one there', () => {
    const info: ImageDebugInfo = {
      programs: [
        program(3, [
          ['start', 0],
          ['main', 0],
          ['loop', 2],
        ]),
      ],
      domains: [
        { domain: 6, codePage: 3, entry: 0 },
        { domain: 9, codePage: 3, entry: 1 },
        { domain: 12, codePage: 4, entry: 0 },
      ],
    };
    const name = domainNamer(info);
    expect([6, 9, 12, 13].map(name)).toEqual(['start', undefined, undefined, undefined]);
    expect(domainNamer(undefined)(6)).toBeUndefined();
    expect(domainNamer({ programs: info.programs })(6)).toBeUndefined();
  });

  it('names a language program domain by its declaration, not a generated label', () => {
    const info: ImageDebugInfo = {
      programs: [
        program(
          3,
          [
            ['str0', 0],
            ['d_Keeper_init', 10],
            ['d_Keeper_dispatch', 10],
            ['f_main', 20],
          ],
          'app.kl',
        ),
      ],
      domains: [
        { domain: 6, codePage: 3, entry: 0 },
        { domain: 8, codePage: 3, entry: 10 },
        { domain: 9, codePage: 3, entry: 20 },
      ],
    };
    expect([6, 8, 9].map(domainNamer(info))).toEqual([undefined, 'Keeper', undefined]);
  });
});
