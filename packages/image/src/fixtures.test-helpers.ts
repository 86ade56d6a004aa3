// Deterministic stores for the image tests and golden images: every object kind,
// every key kind, void keys (severed, destroyed, used-up resume), meters with
// keepers, device transcripts and kernel registers. Not part of the public API.
import { DomainSlot, DomainState, Fault, type Key, numberKey, PageType, Store, UNLIMITED } from '@keyvm/core';
import { ImageError } from './errors.js';

/** A machine with nothing but its prime meters. */
export function emptyStore(): Store {
  return new Store();
}

/**
 * A small machine with one domain: ids 1, 2 prime meters; 3 data page (2 words);
 * 4 domain page (12 slots); 5 time meter (keeper: the domain); 6 device.
 */
export function tinyStore(): Store {
  const s = new Store();
  const mem = s.meterKey(s.primeMemory, true);
  const dp = s.createPage(PageType.data, mem, 2);
  s.writeWord(dp, 0, 42);
  s.writeWord(dp, 1, -7);
  const kp = s.createPage(PageType.keys, mem, 12);
  const gate = s.makeDomain(kp);
  const domain = s.domain(gate);
  const tm = s.createMeter(s.meterKey(s.primeTime, true), 100);
  s.setMeterKeeper(tm, gate);
  const dev = s.createDevice(2);
  s.device(dev).transcript.push(7);
  s.setSlot(kp, DomainSlot.TIME, tm);
  s.setSlot(kp, DomainSlot.MEMORY, mem);
  s.setSlot(kp, DomainSlot.CODE, s.attenuate(dp, 1));
  s.setSlot(kp, DomainSlot.STACK, dp);
  s.setSlot(kp, DomainSlot.RECV, dev);
  s.setSlot(kp, DomainSlot.RESUME, s.resumeKey(domain));
  s.kernel.root = domain.id;
  s.kernel.active = domain.id;
  s.kernel.steps = 10;
  return s;
}

/** A larger machine: two domains, caller waiting on a callee, every key kind, void keys. */
export function richStore(): Store {
  // Memory: what its golden bytes have left once its objects and two domains (176 words each) are paid.
  const s = new Store({ time: 1_000_000, memory: 100_184 });
  const mem = s.meterKey(s.primeMemory, true);
  const time = s.meterKey(s.primeTime, true);
  const data = s.createPage(PageType.data, mem, 8);
  for (const [i, w] of [0, 1, -1, 0x7fffffff, -0x80000000, 123456, -654321, 5].entries())
    s.writeWord(data, i, w);
  const code = s.createPage(PageType.data, mem, 4);
  for (const [i, w] of [1, 2, 3, 4].entries()) s.writeWord(code, i, w);
  const stack = s.createPage(PageType.data, mem, 16);
  s.writeWord(stack, 0, 99);

  const callerPage = s.createPage(PageType.keys, mem, 28);
  const callerGate = s.makeDomain(callerPage);
  const calleePage = s.createPage(PageType.keys, mem, 28);
  const calleeGate = s.makeDomain(calleePage);
  const caller = s.domain(callerGate);
  const callee = s.domain(calleeGate);

  const timeChild = s.createMeter(time, 5000);
  s.setMeterKeeper(timeChild, calleeGate);
  const memChild = s.createMeter(mem, UNLIMITED);
  const memShare = s.attenuate(memChild, 4); // a use-only key to a grandchild meter
  const severedMeter = s.createMeter(time, 7);
  const freshMeter = s.sever(severedMeter); // the old key is now void

  const dev = s.createDevice(1);
  s.device(dev).transcript.push(1, -1, 0x7fffffff, -0x80000000);
  const quiet = s.createDevice(9);

  // A page that is severed (old keys void) and one that is destroyed (a hole).
  const severedPage = s.createPage(PageType.data, mem, 3);
  const freshPage = s.sever(severedPage);
  const doomed = s.createPage(PageType.data, mem, 5);
  s.destroyPage(doomed);

  // A used-up resume key: consumed once, every copy reads null.
  const usedResume = s.resumeKey(caller);
  s.consumeResume(usedResume);
  const liveResume = s.resumeKey(caller);

  // Caller: running CALL into the callee, waiting for its resume key.
  s.setSlot(callerPage, DomainSlot.TIME, timeChild);
  s.setSlot(callerPage, DomainSlot.MEMORY, memShare);
  s.setSlot(callerPage, DomainSlot.STATE, numberKey(DomainState.waiting));
  s.setSlot(callerPage, DomainSlot.IP, numberKey(3));
  s.setSlot(callerPage, DomainSlot.CODE, s.attenuate(code, 1));
  s.setSlot(callerPage, DomainSlot.POINTER, numberKey(1));
  s.setSlot(callerPage, DomainSlot.STACK, stack);
  s.setSlot(callerPage, DomainSlot.DATA, data);
  s.setSlot(callerPage, DomainSlot.KEEPER, calleeGate);
  // Callee: running, holding the caller's resume key and a message.
  s.setSlot(calleePage, DomainSlot.TIME, time);
  s.setSlot(calleePage, DomainSlot.MEMORY, mem);
  s.setSlot(calleePage, DomainSlot.STATE, numberKey(DomainState.running));
  s.setSlot(calleePage, DomainSlot.IP, numberKey(-2));
  s.setSlot(calleePage, DomainSlot.CODE, code);
  s.setSlot(calleePage, DomainSlot.RECV, numberKey(-5));
  s.setSlot(calleePage, DomainSlot.RESUME, liveResume);

  // A plain key page with one key of every kind, and the void ones.
  const general: Key[] = [
    numberKey(123456789),
    numberKey(-1),
    data,
    s.attenuate(data, 1),
    callerGate,
    liveResume,
    usedResume, // void: written as null
    mem,
    s.attenuate(mem, 1),
    dev,
    quiet,
    severedPage, // void
    freshPage,
    doomed, // void
    severedMeter, // void
    freshMeter,
    calleePage,
  ];
  const bag = s.createPage(PageType.keys, mem, general.length + 2);
  for (const [i, k] of general.entries()) s.setSlot(bag, i, k);
  s.setSlot(calleePage, DomainSlot.DATA, s.attenuate(bag, 1));
  s.setSlot(calleePage, DomainSlot.STACK, s.createPage(PageType.data, memShare, 6));

  s.kernel.root = caller.id;
  s.kernel.active = callee.id;
  s.kernel.runQueue = [];
  s.kernel.steps = 12_345;
  s.kernel.quantum = 100;
  s.kernel.sliceLeft = 37;
  return s;
}

/** A machine stopped by a fault, with limited prime meters and a deep meter chain. */
export function faultedStore(): Store {
  const s = new Store({ time: 0, memory: 466 }); // exactly what its one domain page is charged
  const mem = s.meterKey(s.primeMemory, true);
  let chain = s.meterKey(s.primeTime, true);
  for (let i = 0; i < 5; i++) chain = s.createMeter(chain, 2 ** 40 + i);
  const kp = s.createPage(PageType.keys, mem, 12);
  const gate = s.makeDomain(kp);
  const d = s.domain(gate);
  s.setSlot(kp, DomainSlot.TIME, chain);
  s.setSlot(kp, DomainSlot.STATE, numberKey(DomainState.faulted));
  s.kernel = {
    root: d.id,
    active: 0,
    runQueue: [],
    steps: 2 ** 33,
    quantum: 1,
    sliceLeft: 0,
    faultCode: Fault['division-by-zero'],
    faultPc: 7,
    faultDomain: d.id,
  };
  return s;
}

export const FIXTURES = {
  empty: emptyStore,
  tiny: tinyStore,
  rich: richStore,
  faulted: faultedStore,
} as const;

/** Run `f` and return the ImageError it throws (anything else is rethrown). */
export function catchImageError(f: () => unknown): ImageError {
  try {
    f();
  } catch (e) {
    if (e instanceof ImageError) return e;
    throw e;
  }
  throw new Error('expected an ImageError, nothing was thrown');
}
