// Draws the capability graph as SVG, laid out by ELK (elkjs, the Eclipse Layout
// Kernel compiled to JavaScript: layered layout with labelled, routed edges), with
// what the last move changed highlighted; clicking a node selects it.

import type { ELK as ElkApi } from 'elkjs/lib/elk-api.js';
// The layout engine runs in its own worker (the page stays responsive while it lays out
// a large graph); both it and the API are fetched on the first draw, not with the page.
import elkWorkerUrl from 'elkjs/lib/elk-worker.min.js?url';
import type { Graph, GraphDiff } from '../logic/graph.js';
import { elkGraph, NODE_H, NODE_W, shapeKey, warmUpGraph } from '../logic/graph-layout.js';

let elkEngine: Promise<ElkApi> | null = null;
const engine = (): Promise<ElkApi> =>
  (elkEngine ??= import('elkjs/lib/elk-api.js').then((m) => {
    // elk-api.js is CommonJS; its typings describe the ESM default export.
    const mod = m as unknown as { default: { default?: unknown } };
    const ELK = (mod.default.default ?? mod.default) as typeof import('elkjs/lib/elk-api.js').default;
    return new ELK({ workerFactory: () => new Worker(elkWorkerUrl) });
  }));
const SVG = 'http://www.w3.org/2000/svg';

interface Laid {
  readonly positions: Map<number, { x: number; y: number }>;
  readonly edges: Map<string, { points: { x: number; y: number }[]; label?: { x: number; y: number } }>;
  readonly width: number;
  readonly height: number;
}

/** The last shape laid out: a step that changes no node or key (only contents) reuses it. */
let cached: { readonly key: string; readonly laid: Promise<Laid> } | null = null;
/** What the ELK worker is doing now (a layout or a warm-up round); requests queue behind it. */
let inFlight: Promise<unknown> = Promise.resolve();
/** Draws waiting for the worker; the warm-up yields to them. */
let waitingDraws = 0;
/** Bumped by each draw: a draw overtaken by a newer one neither lays out nor draws. */
let drawGen = 0;

async function runLayout(g: Graph): Promise<Laid> {
  const result = await (await engine()).layout(elkGraph(g));
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
  return { positions, edges, width: result.width ?? 0, height: result.height ?? 0 };
}

/** Lay `g` out, or reuse the layout of the same shape; null when a newer draw overtook this one. */
async function layout(g: Graph, gen: number): Promise<Laid | null> {
  const key = shapeKey(g);
  if (cached?.key === key) return cached.laid;
  waitingDraws++;
  try {
    await inFlight;
  } finally {
    waitingDraws--;
  }
  if (gen !== drawGen) return null;
  if (cached?.key === key) return cached.laid;
  const laid = runLayout(g);
  const entry = { key, laid };
  cached = entry;
  inFlight = laid.catch(() => {
    if (cached === entry) cached = null;
  });
  return laid;
}

/**
 * ELK is Java compiled to JavaScript; its first large layout runs on cold code and takes
 * about twice as long as later ones. After the first draw, warm the worker with a few
 * machine-like graphs of 60 objects, one at a time, pausing whenever a real draw waits, so
 * that a real request waits for at most one small round. Resolves when warm.
 */
const WARM_ROUNDS = 6;
const WARM_SIZE = 60;
let warming: Promise<void> | null = null;
export const warmGraphEngine = (): Promise<void> =>
  (warming ??= (async () => {
    const g = elkGraph(warmUpGraph(WARM_SIZE));
    for (let round = 0; round < WARM_ROUNDS; ) {
      await new Promise((r) => setTimeout(r, 0));
      if (waitingDraws > 0) {
        await inFlight;
        continue;
      }
      const api = await engine();
      const done = api.layout(structuredClone(g)).then(
        () => undefined,
        () => undefined,
      );
      inFlight = done;
      await done;
      round++;
    }
  })());

const el = <K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>) => {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  return e;
};

/**
 * Render `g` into `host`; resolves true when drawn, false when a newer draw overtook this one
 * (its graph is stale, so it is neither laid out nor drawn).
 */
export async function drawGraph(
  host: HTMLElement,
  g: Graph,
  diff: GraphDiff,
  selected: number,
  onSelect: (id: number) => void,
): Promise<boolean> {
  const gen = ++drawGen;
  const t0 = performance.now();
  const laid = await layout(g, gen);
  if (!laid || gen !== drawGen) return false;
  const t1 = performance.now();
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
  // For the bench: the last draw's wait for its layout (queue included) and its SVG, in ms.
  document.body.dataset.graphMs = `${(t1 - t0).toFixed(0)} ${(performance.now() - t1).toFixed(0)}`;
  return true;
}
