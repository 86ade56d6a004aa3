// `keyvm inspect IMAGE`: what an image holds — header, hash, kernel registers,
// domains and their slots, the meter tree, pages and devices — for people or as JSON.
import {
  DomainSlot,
  describeKey,
  FIRST_GENERAL_SLOT,
  faultName,
  type Key,
  KeyKind,
  ObjectKind,
  UNLIMITED,
} from '@keyvm/core';
import { imageHash, readImageHeader } from '@keyvm/image';
import { DEVICE_TABLE, Machine, type MachineApi } from '@keyvm/interpreter';
import { ExitCode } from './errors.js';
import { colourFor, loadInputOf, paint, writeStream } from './io.js';
import { stackText } from './run.js';

/** Names of the special domain slots by number. */
export const SLOT_NAMES: readonly string[] = Object.entries(DomainSlot)
  .sort((a, b) => a[1] - b[1])
  .map(([name]) => name);

export const slotName = (slot: number): string => (slot < FIRST_GENERAL_SLOT ? (SLOT_NAMES[slot] ?? '') : '');

export interface SlotView {
  readonly slot: number;
  readonly name: string;
  readonly key: string;
}

export interface ImageView {
  readonly file: string;
  readonly format: { readonly version: number; readonly bytes: number; readonly sha256: string };
  readonly kernel: {
    readonly root: number;
    readonly active: number;
    readonly runQueue: readonly number[];
    readonly steps: number;
    readonly quantum: number;
    readonly sliceLeft: number;
    /** The fault the machine stopped on, named as --json names it (`code` the catalogue name). */
    readonly fault: {
      readonly code: string;
      readonly number: number;
      readonly pc: number;
      readonly domain: number;
    } | null;
  };
  readonly domains: readonly {
    readonly id: number;
    readonly root: boolean;
    readonly state: string;
    readonly ip: number;
    readonly sp: number;
    readonly stack: readonly number[];
    readonly slots: readonly SlotView[];
  }[];
  readonly meters: readonly {
    readonly id: number;
    readonly resource: 'time' | 'memory';
    readonly parent: number | null;
    readonly remaining: number | null;
    readonly keeper: string;
    readonly depth: number;
  }[];
  readonly pages: readonly {
    readonly id: number;
    readonly type: 'data' | 'keys';
    readonly size: number;
    readonly meter: number;
    readonly domain: boolean;
    readonly slots?: readonly SlotView[];
  }[];
  readonly devices: readonly { readonly id: number; readonly type: string; readonly transcript: number }[];
}

const slotViews = (slots: readonly Key[], domain: boolean): SlotView[] =>
  slots.flatMap((key, slot) =>
    key.kind === KeyKind.null
      ? []
      : [{ slot, name: domain ? slotName(slot) : String(slot), key: describeKey(key) }],
  );

/** A plain description of an image (shared by inspect and its --json). */
export function viewImage(file: string, bytes: Uint8Array, machine: MachineApi): ImageView {
  const store = machine.store;
  const k = store.kernel;
  const { version } = readImageHeader(bytes);
  const view: {
    [K in keyof ImageView]: ImageView[K] extends readonly (infer T)[] ? T[] : ImageView[K];
  } = {
    file,
    format: { version, bytes: bytes.length, sha256: imageHash(bytes) },
    kernel: {
      root: k.root,
      active: k.active,
      runQueue: [...k.runQueue],
      steps: k.steps,
      quantum: k.quantum,
      sliceLeft: k.sliceLeft,
      fault:
        k.faultCode === 0
          ? null
          : {
              code: faultName(k.faultCode) ?? `#${k.faultCode}`,
              number: k.faultCode,
              pc: k.faultPc,
              domain: k.faultDomain,
            },
    },
    domains: machine.domains().map((d) => ({
      id: d.id,
      root: d.id === k.root,
      state: d.stateName,
      ip: d.ip,
      sp: d.sp,
      stack: machine.stack(d.id),
      slots: slotViews(d.slots, true),
    })),
    meters: [],
    pages: [],
    devices: [],
  };
  for (const o of store.objects()) {
    switch (o.kind) {
      case ObjectKind.meter:
        view.meters.push({
          id: o.id,
          resource: o.resource === 0 ? 'time' : 'memory',
          parent: o.parent?.id ?? null,
          remaining: o.remaining === UNLIMITED ? null : o.remaining,
          keeper: describeKey(store.normalize(o.keeper)),
          depth: o.depth,
        });
        break;
      case ObjectKind.dataPage:
        view.pages.push({ id: o.id, type: 'data', size: o.size, meter: o.meter, domain: false });
        break;
      case ObjectKind.keyPage:
        view.pages.push(
          o.isDomain
            ? { id: o.id, type: 'keys', size: o.size, meter: o.meter, domain: true }
            : {
                id: o.id,
                type: 'keys',
                size: o.size,
                meter: o.meter,
                domain: false,
                slots: slotViews(
                  o.slots.map((key) => store.normalize(key)),
                  false,
                ),
              },
        );
        break;
      case ObjectKind.device:
        view.devices.push({
          id: o.id,
          type: DEVICE_TABLE[o.deviceType]?.name ?? `type ${o.deviceType}`,
          transcript: o.transcript.length,
        });
        break;
    }
  }
  return view;
}

export interface InspectFlags {
  json?: boolean;
}

export async function inspectCommand(file: string, flags: InspectFlags): Promise<ExitCode> {
  const input = await loadInputOf(file, ['image'], '; make one with `keyvm run FILE --save IMAGE`');
  const view = viewImage(input.name, input.bytes, new Machine(input.store));
  const text = flags.json ? `${JSON.stringify(view, null, 2)}\n` : inspectText(view);
  await writeStream(process.stdout, text);
  return ExitCode.ok;
}

const amount = (n: number | null): string => (n === null ? 'unlimited' : n.toLocaleString('en-US'));

function inspectText(v: ImageView): string {
  const p = paint(colourFor(process.stdout));
  const out: string[] = [];
  const k = v.kernel;
  out.push(`${p.bold('image')}    ${v.file}`);
  out.push(`format   version ${v.format.version}, ${v.format.bytes.toLocaleString('en-US')} bytes`);
  out.push(`sha256   ${v.format.sha256}`);
  const fault =
    k.fault === null
      ? 'none'
      : `${k.fault.code} (${k.fault.number}) at pc ${k.fault.pc} in domain #${k.fault.domain}`;
  out.push(
    `kernel   root #${k.root}, active ${k.active === 0 ? '-' : `#${k.active}`}, run queue [${k.runQueue.map((id) => `#${id}`).join(' ')}], ` +
      `steps ${k.steps.toLocaleString('en-US')}, quantum ${k.quantum} (${k.sliceLeft} left), fault ${fault}`,
  );
  out.push('', p.bold(`domains (${v.domains.length})`));
  for (const d of v.domains) {
    out.push(
      `  #${d.id}${d.root ? ' (root)' : ''}  ${d.state}, ip ${d.ip}, sp ${d.sp}, stack ${stackText(d.stack)}`,
    );
    for (const s of d.slots) {
      if (s.slot === DomainSlot.STATE || s.slot === DomainSlot.IP || s.slot === DomainSlot.POINTER) continue;
      out.push(`      ${String(s.slot).padStart(2)} ${s.name.padEnd(10)} ${s.key}`);
    }
  }
  out.push('', p.bold(`meters (${v.meters.length})`));
  for (const m of meterTreeOrder(v.meters)) {
    const indent = '  '.repeat(m.depth + 1);
    const keeper = m.keeper === 'null' ? '' : `, keeper ${m.keeper}`;
    const parent = m.parent === null ? ' (prime)' : ` (child of #${m.parent})`;
    out.push(`${indent}#${m.id} ${m.resource}${parent}: ${amount(m.remaining)} left${keeper}`);
  }
  out.push('', p.bold(`pages (${v.pages.length})`));
  for (const pg of v.pages) {
    const unit = pg.type === 'data' ? 'words' : 'slots';
    const role = pg.domain ? ', a domain' : '';
    out.push(`  #${pg.id} ${pg.type.padEnd(4)} ${pg.size} ${unit}, memory meter #${pg.meter}${role}`);
    for (const s of pg.slots ?? []) out.push(`      ${String(s.slot).padStart(2)} ${s.key}`);
  }
  out.push('', p.bold(`devices (${v.devices.length})`));
  for (const d of v.devices) out.push(`  #${d.id} ${d.type}, transcript ${d.transcript} words`);
  return `${out.join('\n')}\n`;
}

/** Meters in tree order: each prime meter, then its children depth-first, by id. */
function meterTreeOrder<M extends { id: number; parent: number | null }>(meters: readonly M[]): M[] {
  const children = new Map<number | null, M[]>();
  for (const m of meters) {
    const list = children.get(m.parent) ?? [];
    list.push(m);
    children.set(m.parent, list);
  }
  const out: M[] = [];
  const visit = (parent: number | null): void => {
    for (const m of children.get(parent) ?? []) {
      out.push(m);
      visit(m.id);
    }
  };
  visit(null);
  return out;
}
