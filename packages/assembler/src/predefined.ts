// Names every program may use without defining them: the domain slot layout, the
// device slots and device operations of a booted root domain, and a few operand
// values. A program's own `.const` of the same name takes that name over entirely.
import { DEVICES } from '@keyvm/isa';

/**
 * The domain layout (as `DomainSlot` in @keyvm/core, which this package does not
 * depend on; apps/cli's tests check they agree): KeyVM's slots 0..9, then KeyKOS's
 * KEEPER and RESUME.
 */
const LAYOUT = [
  ['TIME', 0, 'slot of the time meter'],
  ['MEMORY', 1, 'slot of the memory meter'],
  ['SELF', 2, "slot of a key to the domain's own page"],
  ['STATE', 3, "slot of the domain's state (the machine's)"],
  ['IP', 4, 'slot of the instruction pointer'],
  ['CODE', 5, 'slot of the code page'],
  ['POINTER', 6, 'slot of the stack pointer'],
  ['STACK', 7, 'slot of the stack page'],
  ['DATA', 8, 'slot of the data page'],
  ['RECV', 9, 'slot of the key received with a message'],
  ['KEEPER', 10, 'slot of the keeper (fault handler) gate key'],
  ['RESUME', 11, "slot of the caller's resume key"],
  ['GENERAL', 12, 'the first general slot'],
  ['DOMAIN_SLOTS', 28, 'slots in a domain page the machine builds (12 special + 16 general)'],
  ['PAGE_DATA', 0, 'CREATEPAGE type: a data page'],
  ['PAGE_KEYS', 1, 'CREATEPAGE type: a key page'],
  ['COPY', 0, 'ATTENUATE option: copy the key unchanged'],
  ['READ_ONLY', 1, 'ATTENUATE option: a read-only page key or a use-only meter key'],
  ['UNLIMITED', -1, 'CREATEMETER / METERSET amount: unlimited'],
] as const;

export interface PredefinedName {
  readonly name: string;
  readonly value: number;
  readonly doc: string;
}

/** Every predefined name, in the order the README lists them. */
export const PREDEFINED_NAMES: readonly PredefinedName[] = Object.freeze([
  ...LAYOUT.map(([name, value, doc]) => ({ name, value, doc })),
  ...DEVICES.map((d) => ({
    name: d.name.toUpperCase(),
    value: d.bootSlot,
    doc: `slot of the ${d.name} device key`,
  })),
  ...DEVICES.flatMap((d) =>
    d.ops.map((o) => ({
      name: `${d.name.toUpperCase()}_${o.name.toUpperCase()}`,
      value: o.code,
      doc: `${d.name} operation: ${o.doc}`,
    })),
  ),
]);

/** Value by name. */
export const PREDEFINED: ReadonlyMap<string, number> = new Map(
  PREDEFINED_NAMES.map((p) => [p.name, p.value]),
);
