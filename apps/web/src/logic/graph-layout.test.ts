// Tests of the graph's ELK input: shape keys, edges to absent objects, the warm-up graph.
import { assemble } from '@keyvm/assembler';
import { Machine } from '@keyvm/interpreter';
import { describe, expect, it } from 'vitest';
import { graphOf } from './graph.js';
import { elkGraph, LAYOUT_OPTIONS, shapeKey, warmUpGraph } from './graph-layout.js';

const graphAfter = (src: string) => {
  const m = Machine.boot(assemble(src));
  m.run();
  return graphOf(m.store);
};

describe('graph layout input', () => {
  it('keeps the shape key when only contents change, and changes it when a key is added', () => {
    const pages = 'CREATEPAGE 15 1 1 4\nCREATEPAGE 16 0 1 4\n';
    const a = graphAfter(`${pages}HALT`);
    const b = graphAfter(`${pages}PUSH 7\nPUSH 0\nPUSH 16\nPAGEWRITE\nHALT`);
    const c = graphAfter(`${pages}COPYKEY 15 0 2 16\nHALT`);
    expect(c.edges.length).toBe(a.edges.length + 1);
    expect(b.nodes.map((n) => n.fingerprint)).not.toEqual(a.nodes.map((n) => n.fingerprint));
    expect(shapeKey(b)).toBe(shapeKey(a));
    expect(shapeKey(c)).not.toBe(shapeKey(a));
  });

  it('gives ELK every node, sized, and only edges between nodes it has, each labelled', () => {
    const g = graphAfter('CREATEPAGE 16 0 1 4\nHALT');
    const withStray = { ...g, edges: [...g.edges, { ...g.edges[0]!, id: 'stray', to: 99_999 }] };
    const input = elkGraph(withStray);
    expect(input.layoutOptions).toEqual(LAYOUT_OPTIONS);
    expect(input.children?.map((c) => Number(c.id))).toEqual(g.nodes.map((n) => n.id));
    expect(input.edges?.map((e) => e.id)).toEqual(g.edges.map((e) => e.id));
    for (const e of input.edges ?? []) expect(e.labels?.[0]?.width).toBeGreaterThan(0);
  });

  it('builds a consistent warm-up graph of the size asked: unique ids, edges between its nodes', () => {
    for (const size of [8, 60, 200]) {
      const g = warmUpGraph(size);
      expect(g.nodes).toHaveLength(size);
      const ids = new Set(g.nodes.map((n) => n.id));
      expect(ids.size).toBe(size);
      expect(new Set(g.edges.map((e) => e.id)).size).toBe(g.edges.length);
      for (const e of g.edges) expect(ids.has(e.from) && ids.has(e.to)).toBe(true);
      expect(elkGraph(g).edges).toHaveLength(g.edges.length);
      // Several layers (a chain and a cycle back to the domain), not only a star.
      expect(g.edges.some((e) => e.to === 0 && e.from !== 0)).toBe(size >= 11);
    }
  });
});
