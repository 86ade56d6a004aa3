// The capability graph as ELK's input (node sizes, labelled edges, the layered options) and a
// synthetic machine-like graph used to warm the layout engine; shared by the page and the bench.
import type { ElkNode } from 'elkjs/lib/elk-api.js';
import type { Graph, GraphEdge, GraphNode } from './graph.js';

export const NODE_W = 116;
export const NODE_H = 34;
/** Width of one character of an edge label (11 px monospace), for the label's box. */
export const CHAR_W = 6;

/**
 * ELK layered options. Measured (bench/playground.bench.mjs, 210 objects): once ELK's code is
 * compiled, the node placement / crossing minimisation / wrapping / component options change
 * the layout time by less than the run-to-run noise (greedy switch is already off above 40
 * nodes, node placement is Brandes-Köpf); the cost that matters is ELK's code running cold,
 * which warmUpGraph() addresses. Thoroughness 1 (vs the default 7) is the one option that pays.
 */
export const LAYOUT_OPTIONS: Readonly<Record<string, string>> = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.edgeRouting': 'POLYLINE',
  'elk.layered.spacing.nodeNodeBetweenLayers': '60',
  'elk.spacing.nodeNode': '18',
  'elk.spacing.edgeLabel': '2',
  // Wrap long chains of layers into rows, aiming at a landscape drawing.
  'elk.layered.wrapping.strategy': 'MULTI_EDGE',
  'elk.aspectRatio': '1.6',
  // Little effort on crossing minimisation: ~3x faster than the default at 200 objects.
  'elk.layered.thoroughness': '1',
};

/** The graph's shape (what the layout depends on): node ids, edge endpoints and label lengths. */
export const shapeKey = (g: Graph): string =>
  `${g.nodes.map((n) => n.id).join(',')}|${g.edges.map((e) => `${e.id}>${e.to}:${e.label.length}`).join(',')}`;

/** ELK's input for `g`; edges to objects not in the graph are left out. */
export function elkGraph(g: Graph): ElkNode {
  const ids = new Set(g.nodes.map((n) => n.id));
  return {
    id: 'root',
    layoutOptions: { ...LAYOUT_OPTIONS },
    children: g.nodes.map((n) => ({ id: String(n.id), width: NODE_W, height: NODE_H })),
    edges: g.edges
      .filter((e) => ids.has(e.from) && ids.has(e.to))
      .map((e) => ({
        id: e.id,
        sources: [String(e.from)],
        targets: [String(e.to)],
        labels: [{ text: e.label, width: e.label.length * CHAR_W, height: 12 }],
      })),
  };
}

/**
 * A machine-like graph of about `size` objects (a domain, its meter chain, a key page holding
 * data pages, a few of them pointing onwards) for warming the layout engine: it exercises the
 * same phases as a real capability graph (several layers, fan-out, labels, long edges).
 */
export function warmUpGraph(size: number): Graph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const node = (id: number, kind: GraphNode['kind']) =>
    nodes.push({ id, kind, label: `${kind} #${id}`, detail: '', fingerprint: '' });
  const edge = (from: number, to: number, slot: number) =>
    edges.push({
      id: `${from}:${slot}`,
      from,
      to,
      slot,
      label: `${slot} rw`,
      rights: 'read-write',
      readOnly: false,
      severed: false,
    });
  node(0, 'domain');
  node(1, 'meter');
  node(2, 'meter');
  node(3, 'keys');
  edge(0, 1, 0);
  edge(1, 2, -1);
  edge(0, 3, 1);
  edge(0, 0, 2);
  for (let id = 4; id < Math.max(size, 8); id++) {
    node(id, 'data');
    edge(id % 7 === 0 ? id - 1 : 3, id, id);
    if (id % 11 === 0) edge(id, 0, 1000 + id);
  }
  return { nodes, edges };
}
