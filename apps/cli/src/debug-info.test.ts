// Unit tests of the domain records behind fault names: what the recorder keeps (and
// drops), how a record becomes a name, and how a name is shown.
import { DOMAIN_SLOTS, DomainSlot, numberKey, PageType, Store } from '@keyvm/core';
import type { ImageDebugInfo } from '@keyvm/image';
import { describe, expect, it } from 'vitest';
import { DomainRecorder, domainNamer, liveDebugInfo, shownName } from './debug-info.js';

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

describe('shownName', () => {
  it('shows identifiers as they are and anything else quoted, escaped and cut', () => {
    expect(shownName('worker')).toBe('worker');
    expect(shownName('a.b$c_1')).toBe('a.b$c_1');
    expect(shownName('two words')).toBe('"two words"');
    expect(shownName('say "hi" \\ \x1b[31m')).toBe('"say \\"hi\\" \\\\ \\x1B[31m"');
    expect(shownName('')).toBe('""');
    expect(shownName('y'.repeat(65))).toBe(`"${'y'.repeat(64)}…"`);
  });
});
