// Two copies of @keyvm/core in one program (npm nests one when the versions two
// packages ask for diverge): what one copy makes, the other must still recognise.
import { describe, expect, it, vi } from 'vitest';
import { GuestFault } from './faults.js';
import { KeyPage, ObjectKind } from './objects.js';

describe('objects made by another copy of core', () => {
  it('a GuestFault of another copy is a GuestFault here, and the other way round', async () => {
    vi.resetModules();
    const other = await import('./faults.js');
    expect(other.GuestFault).not.toBe(GuestFault);
    const theirs = new other.GuestFault('null-key', 'from the other copy');
    expect(theirs instanceof GuestFault).toBe(true);
    expect(new GuestFault('null-key', 'here') instanceof other.GuestFault).toBe(true);
    expect(theirs.code).toBe(new GuestFault('null-key', 'here').code);
    expect(new Error('plain') instanceof GuestFault).toBe(false);
    expect((null as object | null) instanceof GuestFault).toBe(false);
    expect({ fault: 'null-key' } instanceof GuestFault).toBe(false);
  });

  it('store objects are told apart by their kind, which every copy agrees on', async () => {
    vi.resetModules();
    const other = await import('./objects.js');
    expect(other.KeyPage).not.toBe(KeyPage);
    const page = new other.KeyPage(7, 0, [], 2);
    expect(page instanceof KeyPage).toBe(false); // why nothing across packages uses instanceof on them
    expect(page.kind).toBe(ObjectKind.keyPage);
    expect(other.ObjectKind).toEqual(ObjectKind);
  });
});
