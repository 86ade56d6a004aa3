// Public API of @keyvm/core: the page/key store, keys, meters, the domain layout
// and the guest fault catalogue.
export {
  FAULT_TABLE,
  Fault,
  type FaultName,
  type FaultNumber,
  fail,
  faultName,
  GuestFault,
} from './faults.js';
export {
  describeKey,
  KEY_KIND_NAMES,
  type Key,
  KeyKind,
  keysEqual,
  MeterRights,
  makeKey,
  NULL_KEY,
  numberKey,
} from './keys.js';
export {
  Attenuation,
  DOMAIN_SLOT_KINDS,
  DOMAIN_SLOTS,
  DOMAIN_STATE_NAMES,
  DomainSlot,
  DomainState,
  domainSlotProblem,
  FIRST_GENERAL_SLOT,
  GENERAL_SLOTS,
  LIMITS,
  MEMORY_CHARGES,
  PageType,
  pageCharge,
  Resource,
  SPECIAL_SLOTS,
} from './layout.js';
export { DataPage, Device, KeyPage, Meter, ObjectKind, type StoreObject, UNLIMITED } from './objects.js';
export { type StoreSnapshot, snapshotStore } from './snapshot.js';
export {
  defaultKernel,
  type KernelState,
  PRIME_MEMORY,
  PRIME_TIME,
  Store,
  type StoreOptions,
} from './store.js';
