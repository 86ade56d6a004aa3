// Draws the capability graph as SVG, laid out by ELK (elkjs, the Eclipse Layout
// Kernel compiled to JavaScript: layered layout with labelled, routed edges), with
// what the last move changed highlighted; clicking a node selects it.

import type { ELK as ElkApi, ElkNode } from 'elkjs/lib/elk-api.js';
// The layout engine runs in its own worker (the page stays responsive while it lays out
// a large graph); both it and the API are fetched on the first draw, not with the page.
import elkWorkerUrl from 'elkjs/lib/elk-worker.min.js?url';
import type { Graph, GraphDiff } from '../logic/graph.js';

let elkEngine: Promise<ElkApi> | null = null;
const engine = (): Promise<ElkApi> =>
  (elkEngine ??= import('elkjs/lib/elk-api.js').then((m) => {
    // elk-api.js is CommonJS; its typings describe the ESM default export.
    const mod = m as unknown as { default: { default?: unknown } };
    const ELK = (mod.default.default ?? mod.default) as typeof import('elkjs/lib/elk-api.js').default;
    return new ELK({ workerFactory: () => new Worker(elkWorkerUrl) });
  }));
const SVG = 'http://www.w3.org/2000/svg';
const NODE_W = 116;
const NODE_H = 34;
const CHAR_W = 6;

interface Laid {
  readonly key: string;
  readonly positions: Map<number, { x: number; y: number }>;
  readonly edges: Map<string, { points: { x: number; y: number }[]; label?: { x: number; y: number } }>;
  readonly width: number;
  readonly height: number;
}

let last: Laid | null = null;

/** The graph's shape (what layout depends on): node ids and edge endpoints. */
const shapeKey = (g: Graph) =>
  `${g.nodes.map((n) => n.id).join(',')}|${g.edges.map((e) => `${e.id}>${e.to}`).join(',')}`;

async function layout(g: Graph): Promise<Laid> {
  const key = shapeKey(g);
  if (last?.key === key) return last;
  const ids = new Set(g.nodes.map((n) => n.id));
  const graph: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'POLYLINE',
      'elk.layered.spacing.nodeNodeBetweenLayers': '60',
      'elk.spacing.nodeNode': '18',
      'elk.spacing.edgeLabel': '2',
      // Wrap long layers into rows (readable at 200 objects) and spend little on crossing
      // minimisation: measured ~1 s for 210 objects with edge labels, vs ~3 s at the default.
      'elk.layered.wrapping.strategy': 'MULTI_EDGE',
      'elk.aspectRatio': '1.6',
      'elk.layered.thoroughness': '1',
    },
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
  const result = await (await engine()).layout(graph);
  const positions = new Map<number, { x: number; y: number }>();
  for (const c of result.children ?? []) positions.set(Number(c.id), { x: c.x ?? 0, y: c.y ?? 0 });
  const edges: Laid['edges'] = new Map();
  for (const e of result.edges ?? []) {
    const s = e.sections?.[0];
    if (!s) continue;
    const points = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint];
    const l = e.labels?.[0];
    edges.set(e.id, l ? { points, label: { x: l.x ?? 0, y: (l.y ?? 0) + 9 } } : { points });
  }
  last = { key, positions, edges, width: result.width ?? 0, height: result.height ?? 0 };
  return last;
}

const el = <K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>) => {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
};

/** Render `g` into `host`; resolves when drawn. */
export async function drawGraph(
  host: HTMLElement,
  g: Graph,
  diff: GraphDiff,
  selected: number,
  onSelect: (id: number) => void,
): Promise<void> {
  const laid = await layout(g);
  const changedNodes = new Set([...diff.addedNodes, ...diff.changedNodes]);
  const changedEdges = new Set(diff.addedEdges);
  const svg = el('svg', { width: laid.width + 20, height: laid.height + 20, role: 'img' });
  svg.setAttribute('aria-label', `capability graph: ${g.nodes.length} objects, ${g.edges.length} keys`);
  const defs = el('defs', {});
  const marker = el('marker', {
    id: 'arrow',
    viewBox: '0 0 10 10',
    refX: 10,
    refY: 5,
    markerWidth: 6,
    markerHeight: 6,
    orient: 'auto',
  });
  marker.append(el('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#556' }));
  defs.append(marker);
  svg.append(defs);
  const root = el('g', { transform: 'translate(10,10)' });
  for (const e of g.edges) {
    const r = laid.edges.get(e.id);
    if (!r) continue;
    const cls = ['edge', e.rights];
    if (e.readOnly) cls.push('read-only');
    if (e.severed) cls.push('severed');
    if (changedEdges.has(e.id)) cls.push('changed');
    const group = el('g', { class: cls.join(' '), 'data-edge': e.id });
    group.append(
      el('path', { d: `M${r.points.map((p) => `${p.x},${p.y}`).join(' L')}`, 'marker-end': 'url(#arrow)' }),
    );
    if (r.label) {
      const t = el('text', { x: r.label.x, y: r.label.y });
      t.textContent = e.label;
      group.append(t);
    }
    root.append(group);
  }
  for (const n of g.nodes) {
    const p = laid.positions.get(n.id);
    if (!p) continue;
    const cls = ['node', n.kind];
    if (changedNodes.has(n.id)) cls.push('changed');
    if (n.id === selected) cls.push('selected');
    const group = el('g', { class: cls.join(' '), transform: `translate(${p.x},${p.y})`, 'data-node': n.id });
    group.append(el('rect', { width: NODE_W, height: NODE_H, rx: 4 }));
    const t1 = el('text', { x: 6, y: 14 });
    t1.textContent = n.label;
    const t2 = el('text', { x: 6, y: 27 });
    t2.textContent = n.detail;
    group.append(t1, t2);
    group.addEventListener('click', () => onSelect(n.id));
    root.append(group);
  }
  svg.append(root);
  host.replaceChildren(svg);
}
