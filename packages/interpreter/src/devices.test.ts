// Host devices (console, input, clock; transcripts and replay), the step hook,
// single steps, and the Anoma-style evaluate.
import { DomainSlot, KeyKind, numberKey, ObjectKind } from '@keyvm/core';
import { DEVICES, INSTRUCTIONS, Op } from '@keyvm/isa';
import { describe, expect, it } from 'vitest';
import { OUTPUT_LIMIT } from './cpu/constants.js';
import { DEVICE_TABLE, DeviceOp, DeviceType } from './devices.js';
import { evaluate } from './evaluate.js';
import { BootSlot, Machine } from './machine.js';
import { code, op } from './test-support.js';
import { addDomain, boot, rootPage, runHalted, snapshot } from './testing.test-helpers.js';
import type { StepInfo } from './types.js';

const { console: CONSOLE, input: INPUT, clock: CLOCK } = BootSlot;
const READ = (slot: number = INPUT) => op('DEVICE', slot, 0, 0);

const transcripts = (m: Machine): number[][] => {
  const out: number[][] = [];
  for (const o of m.store.objects()) if (o.kind === ObjectKind.device) out.push([...o.transcript]);
  return out;
};

describe('console', () => {
  const hello = [
    ...op('DEVICE', CONSOLE, 0, 72),
    ...op('DEVICE', CONSOLE, 0, 0x1f600),
    ...op('DEVICE', CONSOLE, 1, -42),
  ];

  it('collects output in machine.output without a host writer', () => {
    const m = boot(hello);
    expect(runHalted(m)).toEqual([0, 0, 0]);
    expect(m.output).toBe('H😀-42');
  });

  it('keeps at most outputLimit characters without a writer and counts what it drops', () => {
    const m = boot(hello, { outputLimit: 3 });
    expect(runHalted(m)).toEqual([0, 0, 0]);
    // 'H' (1) and the emoji (2 UTF-16 units) fit; '-42' does not and is dropped whole.
    expect(m.output).toBe('H😀');
    expect(m.outputDropped).toBe(3);
    expect(boot(hello).outputDropped).toBe(0);
    expect(OUTPUT_LIMIT).toBe(1 << 24);
    expect(() => boot(hello, { outputLimit: -1 })).toThrow(/output limit/);
  });

  it('writes to host.write when given, in order', () => {
    const chunks: string[] = [];
    const m = boot(hello, { host: { write: (t) => chunks.push(t) } });
    runHalted(m);
    expect(chunks).toEqual(['H', '😀', '-42']);
    expect(m.output).toBe('');
  });

  it('console output is not recorded (the guest chose it)', () => {
    const m = boot(hello);
    runHalted(m);
    expect(transcripts(m)).toEqual([[], [], []]);
  });
});

describe('input', () => {
  it('blocks while empty: status waiting, then provideInput and run continue', () => {
    const m = boot([...READ(), ...READ(), 'PUSH', 9]);
    const r1 = m.run();
    expect(r1.status).toBe('waiting');
    // Blocked with the DEVICE not done: its operands wait on the stack for the retry.
    expect(m.domain(m.rootDomain)).toMatchObject({ stateName: 'blocked', ip: 6, sp: 3 });
    expect(m.stack()).toEqual([INPUT, 0, 0]);
    expect(r1.steps).toBe(3);
    expect(m.run().status).toBe('waiting');
    m.provideInput([5]);
    expect(m.run().status).toBe('waiting');
    expect(m.stack()).toEqual([5, INPUT, 0, 0]);
    m.provideInput([-6, 7]);
    expect(runHalted(m)).toEqual([5, -6, 9]);
    expect(transcripts(m)).toEqual([[], [5, -6], []]);
  });

  it('a fault no keeper took is reported again while the only other domain waits for input', () => {
    const m = boot([...op('FORK', 16, 0), 'YIELD', ...op('DIV', 1, 0)]);
    const reader = addDomain(m, READ(), { slot: 16, slots: { [INPUT]: rootPage(m).slots[INPUT]! } });
    const fault = { code: 'division-by-zero', pc: 10, domain: m.rootDomain };
    expect(m.run()).toMatchObject({ status: 'fault', fault });
    expect(m.run()).toMatchObject({ status: 'fault', steps: 0, fault });
    expect(m.store.kernel.faultCode).toBe(3);
    // Input makes the reader runnable: it runs, and the old fault is no longer reported.
    m.provideInput([4]);
    expect(m.run().status).toBe('halted');
    expect(m.stack(reader.id)).toEqual([4]);
    expect(m.store.kernel.faultCode).toBe(0);
  });

  it('input given before the run is read without blocking; pending counts what waits', () => {
    const m = boot([...op('DEVICE', INPUT, 1, 0), ...READ(), ...op('DEVICE', INPUT, 1, 0)]);
    m.provideInput([10, 20, 30]);
    expect(runHalted(m)).toEqual([3, 10, 2]);
    expect(transcripts(m)[1]).toEqual([3, 10, 2]);
  });

  it('a blocked domain lets the others run', () => {
    const m = boot([...op('FORK', 15, 0), ...READ()]);
    const other = addDomain(m, ['PUSH', 1, 'PUSH', 2], { slot: 15 });
    expect(m.run().status).toBe('waiting');
    expect(m.stack(other.id)).toEqual([1, 2]);
    expect(m.domain(other.id).stateName).toBe('halted');
    m.provideInput([4]);
    expect(runHalted(m)).toEqual([4]);
  });
});

describe('many blocked domains', () => {
  it('stay blocked in FORK order while another yields past them, and get input in that order', () => {
    const readers = 4;
    const forks = Array.from({ length: readers }, (_, i) => op('FORK', 16 + i, 0)).flat();
    // biome-ignore format: a countdown that yields each round, then halts
    const m = boot([...forks, 'PUSH', 50, 'loop:', 'YIELD', 'PUSH', 1, 'SUB', 'DUP', ':loop', 'SWAP', 'JUMPIF', 'HALT']);
    const input = rootPage(m).slots[INPUT]!;
    const pages = Array.from({ length: readers }, (_, i) =>
      addDomain(m, [...READ(), 'PUSH', 100 + i, 'ADD'], { slot: 16 + i, slots: { [INPUT]: input } }),
    );
    const states = () => pages.map((p) => m.domain(p.id).stateName);
    expect(m.run().status).toBe('waiting');
    expect(m.stack()).toEqual([0]);
    expect(states()).toEqual(['blocked', 'blocked', 'blocked', 'blocked']);
    expect(m.store.kernel.runQueue).toEqual(pages.map((p) => p.id));
    m.provideInput([1, 2]);
    expect(m.run().status).toBe('waiting');
    expect(states()).toEqual(['halted', 'halted', 'blocked', 'blocked']);
    m.provideInput([3, 4]);
    expect(m.run().status).toBe('halted');
    expect(pages.map((p) => m.stack(p.id))).toEqual([[101], [103], [105], [107]]);
  });
});

describe('clock', () => {
  it('reads the step count without a host clock (deterministic)', () => {
    expect(runHalted(boot(['NOP', ...op('DEVICE', CLOCK, 0, 0), ...op('DEVICE', CLOCK, 0, 0)]))).toEqual([
      4, 8,
    ]);
  });

  it('reads and records the host clock', () => {
    let t = 1000;
    const m = boot([...op('DEVICE', CLOCK, 0, 0), ...op('DEVICE', CLOCK, 0, 0)], {
      host: { clock: () => t++ },
    });
    expect(runHalted(m)).toEqual([1000, 1001]);
    expect(transcripts(m)[2]).toEqual([1000, 1001]);
  });
});

describe('device keys are capabilities', () => {
  it('a domain without the device key cannot do I/O (null-key)', () => {
    const m = boot(op('CALL', 15, 0));
    const child = addDomain(m, op('DEVICE', CONSOLE, 0, 65), { slot: 15 });
    const r = m.run();
    expect(r.fault).toMatchObject({ code: 'null-key', domain: child.id });
    expect(m.output).toBe('');
  });

  it('a domain handed the key can', () => {
    const m = boot(op('CALL', 15, CONSOLE));
    addDomain(m, op('DEVICE', DomainSlot.RECV, 0, 65), { slot: 15 });
    expect(m.run().status).toBe('halted');
    expect(m.output).toBe('A');
  });

  it('devices: false gives the root no device keys', () => {
    const m = boot([...op('KEYTYPE', CONSOLE), ...op('KEYTYPE', INPUT), ...op('KEYTYPE', CLOCK)], {
      devices: false,
    });
    expect(runHalted(m)).toEqual([0, 0, 0]);
    const d = boot([...op('KEYTYPE', CONSOLE), ...op('KEYTYPE', INPUT), ...op('KEYTYPE', CLOCK)]);
    expect(runHalted(d)).toEqual([KeyKind.device, KeyKind.device, KeyKind.device]);
  });
});

describe('transcripts and replay', () => {
  const program = [
    ...READ(),
    ...READ(),
    'ADD',
    'DUP',
    ...op('DEVICE', CLOCK, 0, 0),
    'DROP',
    'PUSH',
    CONSOLE,
    'SWAP',
    'PUSH',
    1,
    'SWAP',
    'DEVICE',
  ];

  function recorded() {
    let t = 50;
    const m = boot(program, { host: { clock: () => (t += 7) } });
    expect(m.run().status).toBe('waiting');
    m.provideInput([30, 12]);
    runHalted(m);
    return m;
  }

  it('records every host-chosen word', () => {
    const m = recorded();
    expect(m.stack()).toEqual([42, 0]);
    expect(m.output).toBe('42');
    expect(transcripts(m)).toEqual([[], [30, 12], [57]]);
  });

  it('replay mode reproduces the same outcome without asking the host', () => {
    const a = recorded();
    const b = boot(program, { replay: true, host: { clock: () => -1 } });
    const src = [...a.store.objects()].filter((o) => o.kind === ObjectKind.device);
    const dst = [...b.store.objects()].filter((o) => o.kind === ObjectKind.device);
    for (const [i, d] of dst.entries()) d.transcript = [...src[i]!.transcript];
    const r = b.run();
    expect(r.status).toBe('halted');
    expect(b.stack()).toEqual(a.stack());
    expect(b.output).toBe(a.output);
    // The same state, step count included; only the time slice differs, as the
    // recording blocked (and so went back to the run queue) where the replay did not.
    const sa = snapshot(a);
    expect(b.store.kernel.steps).toBe(a.store.kernel.steps);
    expect({ ...snapshot(b), kernel: { ...snapshot(b).kernel, sliceLeft: 0 } }).toEqual({
      ...sa,
      kernel: { ...sa.kernel, sliceLeft: 0 },
    });
  });

  it('a blocked read is neither paid nor counted, so the step clock replays', () => {
    const prog = [...READ(), 'DROP', ...op('DEVICE', CLOCK, 0, 0)];
    const a = boot(prog);
    expect(a.run()).toEqual({ status: 'waiting', steps: 3, gasUsed: 3 });
    a.provideInput([1]);
    expect(a.run()).toEqual({ status: 'halted', steps: 6, gasUsed: 8 });
    const b = boot(prog);
    b.provideInput([1]);
    expect(b.run()).toEqual({ status: 'halted', steps: 9, gasUsed: 11 });
    expect(a.stack()).toEqual(b.stack());
    expect(a.stack()).toEqual([8]);
  });

  it('replay past the end of a transcript asks the host and records', () => {
    const b = boot(READ(), { replay: true });
    b.provideInput([8]);
    expect(runHalted(b)).toEqual([8]);
    expect(transcripts(b)[1]).toEqual([8]);
  });

  it('replay past the end of a transcript with no input waits (and does not spin)', () => {
    const b = boot(READ(), { replay: true });
    const r = b.run({ maxSteps: 1000 });
    expect(r.status).toBe('waiting');
    expect(r.steps).toBeLessThan(10);
    b.provideInput([3]);
    expect(runHalted(b)).toEqual([3]);
  });
});

describe('step hook and step()', () => {
  const program = [...op('ADD', 2, 3), ...op('CALLW', 15, 0, 4)];
  function withChild(options = {}) {
    const m = boot(program, options);
    const child = addDomain(m, ['PUSH', 1, 'ADD', 'PUSH', 11, 'SWAP', 'PUSH', 0, 'SWAP', 'RETURN'], {
      slot: 15,
    });
    return { m, child };
  }

  // Gas is what the meter chain has left, not what the interpreter borrowed of it.
  it.each([{}, { borrowLimit: 1 }, { borrowLimit: 5 }])(
    'is called once per instruction, before it, with the right fields %o',
    (options) => {
      const { m, child } = withChild({ time: 100, ...options });
      const seen: StepInfo[] = [];
      m.onStep = (s) => seen.push(s);
      const r = m.run();
      expect(r.status).toBe('halted');
      expect(seen.length).toBe(r.steps);
      const root = m.rootDomain;
      expect(seen.map((s) => s.opName)).toEqual([
        'PUSH',
        'PUSH',
        'ADD',
        'PUSH',
        'PUSH',
        'PUSH',
        'CALLW',
        'PUSH',
        'ADD',
        'PUSH',
        'SWAP',
        'PUSH',
        'SWAP',
        'RETURN',
      ]);
      expect(seen[2]).toEqual({
        pc: 4,
        op: Op.ADD,
        opName: 'ADD',
        gas: 98,
        gasCost: 1,
        stack: [2, 3],
        sp: 2,
        stackOmitted: 0,
        depth: 1,
        domain: root,
      });
      expect(seen[6]).toMatchObject({
        pc: 11,
        op: Op.CALLW,
        gas: 94,
        stack: [5, 15, 0, 4],
        depth: 1,
        domain: root,
      });
      // CALLW cost 12.
      expect(seen[6]).toMatchObject({ gasCost: INSTRUCTIONS[Op.CALLW].gas });
      expect(INSTRUCTIONS[Op.CALLW].gas).toBe(12);
      expect(seen[7]).toMatchObject({
        pc: 0,
        opName: 'PUSH',
        gas: 82,
        stack: [4],
        depth: 2,
        domain: child.id,
      });
      expect(seen[13]).toMatchObject({ opName: 'RETURN', stack: [11, 0, 5], depth: 2, domain: child.id });
      expect(m.stack()).toEqual([5, 5]);
    },
  );

  it('a hooked run ends in the same state as an unhooked one', () => {
    const a = withChild().m;
    const b = withChild().m;
    let n = 0;
    b.onStep = () => n++;
    const ra = a.run();
    const rb = b.run();
    expect(rb).toEqual(ra);
    expect(n).toBe(ra.steps);
    expect(snapshot(b)).toEqual(snapshot(a));
  });

  it('is not called when unset', () => {
    const { m } = withChild();
    let n = 0;
    m.onStep = () => n++;
    m.step();
    m.onStep = null;
    expect(m.onStep).toBeNull();
    m.run();
    expect(n).toBe(1);
  });

  it('step() executes exactly one instruction', () => {
    const m = boot(['PUSH', 1, 'PUSH', 2, 'ADD']);
    expect(m.step()).toEqual({ status: 'paused', steps: 1, gasUsed: 1 });
    expect(m.stack()).toEqual([1]);
    expect(m.domain(m.rootDomain).ip).toBe(2);
    expect(m.step()).toMatchObject({ status: 'paused', steps: 1 });
    expect(m.step()).toMatchObject({ status: 'paused', steps: 1 });
    expect(m.stack()).toEqual([3]);
    expect(m.step()).toEqual({ status: 'halted', steps: 0, gasUsed: 0 });
    expect(m.step()).toEqual({ status: 'halted', steps: 0, gasUsed: 0 });
  });

  it('stepping a program through calls ends where run() does', () => {
    const a = withChild().m;
    const b = withChild().m;
    const ra = a.run();
    let steps = 0;
    for (let i = 0; i < 100; i++) {
      const r = b.step();
      steps += r.steps;
      if (r.status !== 'paused') break;
    }
    expect(steps).toBe(ra.steps);
    expect(snapshot(b)).toEqual(snapshot(a));
  });

  it('run({maxSteps}) pauses and continues', () => {
    const m = boot(['PUSH', 1, 'PUSH', 2, 'ADD', 'DUP']);
    expect(m.run({ maxSteps: 2 })).toEqual({ status: 'paused', steps: 2, gasUsed: 2 });
    expect(m.run({ maxSteps: 0 })).toEqual({ status: 'paused', steps: 0, gasUsed: 0 });
    expect(m.run()).toEqual({ status: 'halted', steps: 2, gasUsed: 2 });
    expect(m.stack()).toEqual([3, 3]);
  });
});

describe('evaluate', () => {
  const countdown = { code: code('DUP', 'PUSH', 1, 'SUB', 'DUP', 'PUSH', 0, 'SWAP', 'JUMPIF') };

  it('runs a program on arguments, the first deepest', () => {
    expect(evaluate({ code: code('SUB') }, [5, 3], 10)).toEqual({
      result: [2],
      gasUsed: 1,
      status: 'halted',
    });
    expect(evaluate({ code: code('DIV', 'PUSH', 1, 'ADD') }, [-7, 2], 3)).toEqual({
      result: [-3],
      gasUsed: 3,
      status: 'halted',
    });
  });

  it('is deterministic', () => {
    for (const gas of [0, 5, 50, 5000])
      expect(evaluate(countdown, [20], gas)).toEqual(evaluate(countdown, [20], gas));
  });

  it('never uses more gas than the limit; no result when out of gas', () => {
    const full = evaluate(countdown, [20], 10_000);
    expect(full.status).toBe('halted');
    expect(full.result).toEqual([20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    for (let gas = 0; gas < full.gasUsed; gas++) {
      const e = evaluate(countdown, [20], gas);
      expect(e.gasUsed).toBeLessThanOrEqual(gas);
      expect(e.status).toBe('out-of-gas');
      expect(e.result).toBeUndefined();
      expect('result' in e).toBe(false);
    }
    expect(evaluate(countdown, [20], full.gasUsed)).toEqual(full);
  });

  it('reports a fault without a result', () => {
    const e = evaluate({ code: code('DIV') }, [1, 0], 10);
    expect(e).toMatchObject({ status: 'fault', gasUsed: 0, fault: { code: 'division-by-zero', pc: 0 } });
    expect(e.result).toBeUndefined();
  });

  it('has no devices', () => {
    expect(evaluate({ code: code(...op('DEVICE', CONSOLE, 0, 65)) }, [], 10).fault?.code).toBe('null-key');
  });
});

describe('page views for debuggers', () => {
  it('shows data and key pages as copies, with a stopped domain’s registers in its slots', () => {
    const m = Machine.boot({ code: code(...op('PAGEWRITE', 77, 8, 2), 'PUSH', 5), data: [1, 2, 3] });
    m.run({ maxSteps: 4 });
    const root = m.domain(m.rootDomain);
    const dataId = root.slots[DomainSlot.DATA]!.target;
    const data = m.page(dataId);
    expect(data?.kind).toBe('data');
    if (data?.kind !== 'data') throw new Error('not a data page');
    expect(data.words.slice(0, 4)).toEqual([1, 2, 77, 0]);
    (data.words as number[])[0] = 99;
    expect(m.page(dataId)).toMatchObject({ words: expect.arrayContaining([1, 2, 77]) });
    const self = m.page(m.rootDomain);
    expect(self).toMatchObject({ kind: 'keys', isDomain: true });
    if (self?.kind !== 'keys') throw new Error('not a key page');
    expect(self.slots[DomainSlot.IP]).toEqual(numberKey(7));
    expect(m.page(9999)).toBeUndefined();
    expect(m.page(1)).toBeUndefined(); // a meter, not a page
  });
});

describe('the device table is the one in @keyvm/isa', () => {
  it('DeviceType, DeviceOp and BootSlot agree with DEVICES', () => {
    for (const d of DEVICES) {
      expect(DeviceType[d.name as keyof typeof DeviceType]).toBe(d.type);
      expect(BootSlot[d.name as keyof typeof BootSlot]).toBe(d.bootSlot);
      for (const o of d.ops) expect(DeviceOp[o.name as keyof typeof DeviceOp]).toBe(o.code);
    }
    expect(DEVICES.map((d) => d.name).sort()).toEqual(Object.keys(DeviceType).sort());
    expect(DEVICE_TABLE.map((d) => d.name)).toEqual(DEVICES.map((d) => d.name));
  });
});
