// The capability graph model of a machine: nodes per object, keys as labelled edges,
// read-only and severed keys told apart, and the diff a step makes.
import { assemble } from '@keyvm/assembler';
import { Machine } from '@keyvm/interpreter';
import { describe, expect, it } from 'vitest';
import { diffGraphs, graphOf } from './graph.js';

const boot = (src: string) => Machine.boot(assemble(src), { time: 10_000 });

describe('graphOf', () => {
  it('has a node per object and an edge per key in a key page, labelled by slot and rights', () => {
    const m = boot('HALT');
    const g = graphOf(m.store);
    const kinds = g.nodes.map((n) => n.kind).sort();
    // code, stack, data pages; the root domain; prime time and memory meters; three devices.
    expect(kinds).toEqual(['data', 'data', 'data', 'device', 'device', 'device', 'domain', 'meter', 'meter']);
    const root = m.rootDomain;
    const code = g.edges.find((e) => e.from === root && e.slot === 5)!;
    expect(code.label).toBe('5 CODE read-write');
    expect(code.readOnly).toBe(false);
    expect(code.severed).toBe(false);
    expect(g.edges.filter((e) => e.from === root).map((e) => e.slot)).toEqual([0, 1, 2, 5, 7, 8, 12, 13, 14]);
  });

  it('names domains by the names it is given, and only domains', () => {
    const m = boot('HALT');
    const root = m.rootDomain;
    const g = graphOf(m.store, (id) => (id === root ? 'main' : null));
    expect(g.nodes.find((n) => n.id === root)?.label).toBe(`domain main #${root}`);
    expect(graphOf(m.store).nodes.find((n) => n.id === root)?.label).toBe(`domain #${root}`);
    const asked: number[] = [];
    graphOf(m.store, (id) => {
      asked.push(id);
      return null;
    });
    expect(asked).toEqual([root]);
  });

  it('tells read-only keys, severed keys and meter parents apart', () => {
    const m = boot(`
      CREATEPAGE 15 0 1 4
      ATTENUATE 2 16 2 15 1
      COPYKEY 2 17 2 15
      SEVER 15
      CREATEMETER 18 0 100
      HALT`);
    expect(m.run().status).toBe('halted');
    const g = graphOf(m.store);
    const root = m.rootDomain;
    const slot = (s: number) => g.edges.find((e) => e.from === root && e.slot === s)!;
    expect(slot(16).readOnly).toBe(true);
    expect(slot(16).rights).toBe('read-only');
    expect(slot(16).severed).toBe(true); // the page behind it was severed
    expect(slot(17).severed).toBe(true);
    expect(slot(17).label).toMatch(/severed/);
    expect(slot(15).severed).toBe(false); // SEVER hands back a fresh key
    const meter = slot(18).to;
    expect(g.edges.find((e) => e.from === meter && e.rights === 'parent')?.to).toBe(slot(0).to);
  });
});

describe('diffGraphs', () => {
  it('shows what a COPYKEY and a CREATEPAGE change', () => {
    const m = boot('CREATEPAGE 15 0 1 4\nCOPYKEY 2 16 2 15\nHALT');
    const g0 = graphOf(m.store);
    m.run({ maxSteps: 5 });
    const g1 = graphOf(m.store);
    const d1 = diffGraphs(g0, g1);
    expect(d1.addedNodes.length).toBe(1);
    expect(d1.addedEdges).toEqual([`${m.rootDomain}:15`]);
    m.run({ maxSteps: 5 });
    const d2 = diffGraphs(g1, graphOf(m.store));
    expect(d2.addedNodes).toEqual([]);
    expect(d2.addedEdges).toEqual([`${m.rootDomain}:16`]);
    expect(d2.removedEdges).toEqual([]);
    expect(diffGraphs(g1, g1)).toEqual({
      addedNodes: [],
      removedNodes: [],
      changedNodes: [],
      addedEdges: [],
      removedEdges: [],
    });
  });
});
