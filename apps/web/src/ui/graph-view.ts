// Draws the capability graph as SVG, laid out by ELK (elkjs, the Eclipse Layout
// Kernel compiled to JavaScript: layered layout with labelled, routed edges), with
// what the last move changed highlighted; clicking a node selects it.

import type { ELK as ElkApi } from 'elkjs/lib/elk-api.js';
// The layout engine runs in its own worker (the page stays responsive while it lays out
// a large graph); both it and the API are fetched on the first draw, not with the page.
import elkWorkerUrl from 'elkjs/lib/elk-worker.min.js?url';
import type { Graph, GraphDiff, GraphEdge } from '../logic/graph.js';
import {
  elkGraph,
  GROUPED_H,
  type Grouping,
  groupEdgeId,
  groupLeaves,
  type Laid,
  NODE_H,
  NODE_W,
  readLayout,
  shapeKey,
  slotText,
  warmUpGraph,
} from '../logic/graph-layout.js';

let elkEngine: Promise<ElkApi> | null = null;
/** The engine once loaded: a layout is then posted to its worker synchronously. */
let loadedEngine: ElkApi | null = null;
const engine = (): Promise<ElkApi> =>
  (elkEngine ??= import('elkjs/lib/elk-api.js').then((m) => {
    // elk-api.js is CommonJS; its typings describe the ESM default export.
    const mod = m as unknown as { default: { default?: unknown } };
    const ELK = (mod.default.default ?? mod.default) as typeof import('elkjs/lib/elk-api.js').default;
    loadedEngine = new ELK({ workerFactory: () => new Worker(elkWorkerUrl) });
    return loadedEngine;
  }));
const SVG = 'http://www.w3.org/2000/svg';

/** The last shape laid out: a step that changes no node or key (only contents) reuses it. */
let cached: { readonly key: string; readonly laid: Promise<Laid> } | null = null;
/** Whether the ELK worker is doing something (a layout or a warm-up round), and that job. */
let busy = false;
let inFlight: Promise<unknown> = Promise.resolve();
/** Draws waiting for the worker; the warm-up yields to them. */
let waitingDraws = 0;
/** Bumped by each draw: a draw overtaken by a newer one neither lays out nor draws. */
let drawGen = 0;

/** Hand `job` to the (idle) ELK worker: it is busy until the job settles. */
function occupy<T>(job: Promise<T>): Promise<T> {
  busy = true;
  inFlight = job.then(
    () => {
      busy = false;
    },
    () => {
      busy = false;
    },
  );
  return job;
}

/**
 * Lay `g` out, or reuse the layout of the same shape; null when a newer draw overtook this one.
 * When the engine is loaded and idle the request is posted before this returns, so ELK works in
 * its worker while the page draws the other panes.
 */
async function layout(g: Graph, grouping: Grouping, gen: number): Promise<Laid | null> {
  const key = shapeKey(g);
  if (cached?.key === key) return cached.laid;
  if (busy || loadedEngine === null) {
    waitingDraws++;
    try {
      await engine();
      while (busy) await inFlight;
    } finally {
      waitingDraws--;
    }
    if (gen !== drawGen) return null;
    if (cached?.key === key) return cached.laid;
  }
  const laid = occupy(loadedEngine!.layout(elkGraph(g, grouping)).then((r) => readLayout(r, grouping)));
  const entry = { key, laid };
  cached = entry;
  laid.catch(() => {
    if (cached === entry) cached = null;
  });
  return laid;
}

/**
 * ELK is Java compiled to JavaScript; its first large layout runs on cold code and takes
 * several times as long as later ones. After the first draw, warm the worker with a few
 * machine-like graphs (a chain of key pages with groups of leaves), one at a time, pausing
 * whenever a real draw waits, so that a real request waits for at most one round. The rounds
 * grow (16 to 60 objects): the first ones run coldest, and are the likeliest to be under way
 * when the user clicks at once. Resolves when warm.
 */
const WARM_SIZES = [16, 24, 36, 48, 60, 60];
let warming: Promise<void> | null = null;
export const warmGraphEngine = (): Promise<void> =>
  (warming ??= (async () => {
    const api = await engine();
    for (let round = 0; round < WARM_SIZES.length; ) {
      await new Promise((r) => setTimeout(r, 0));
      if (waitingDraws > 0 || busy) {
        await inFlight;
        continue;
      }
      await occupy(api.layout(elkGraph(warmUpGraph(WARM_SIZES[round]!)))).catch(() => undefined);
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
  const grouping = groupLeaves(g);
  const laid = await layout(g, grouping, gen);
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
  const keyClass = (
    base: string,
    k: { rights: string; readOnly: boolean; severed: boolean },
    changed: boolean,
  ) =>
    [base, k.rights, k.readOnly ? 'read-only' : '', k.severed ? 'severed' : '', changed ? 'changed' : '']
      .filter(Boolean)
      .join(' ');
  const line = (id: string, cls: string, label: string, attrs: Record<string, string>) => {
    const r = laid.edges.get(id);
    if (!r) return;
    const group = el('g', { class: cls, ...attrs });
    group.append(
      el('path', { d: `M${r.points.map((p) => `${p.x},${p.y}`).join(' L')}`, 'marker-end': 'url(#arrow)' }),
    );
    if (r.label) {
      const t = el('text', { x: r.label.x, y: r.label.y });
      t.textContent = label;
      group.append(t);
    }
    root.append(group);
  };
  // A group's frame first (its members are drawn over it), then the edges, then the nodes.
  for (const group of grouping.groups) {
    const box = laid.groups.get(group.id);
    if (!box) continue;
    const frame = el('g', { class: `group frame ${group.kind}`, transform: `translate(${box.x},${box.y})` });
    frame.append(el('rect', { width: box.width, height: box.height, rx: 6 }));
    const title = el('text', { x: 8, y: 16 });
    title.textContent = group.title;
    frame.append(title);
    root.append(frame);
    const changed = group.edges.some((e) => changedEdges.has(e.id));
    line(groupEdgeId(group), keyClass('group-edge bundle', group, changed), group.label, {
      'data-group': group.id,
    });
  }
  for (const e of g.edges)
    if (!grouping.groupOfEdge.has(e.id))
      line(e.id, keyClass('edge', e, changedEdges.has(e.id)), e.label, { 'data-edge': e.id });
  const grouped = new Map<number, GraphEdge>();
  for (const group of grouping.groups) for (const e of group.edges) grouped.set(e.to, e);
  for (const n of g.nodes) {
    const p = laid.positions.get(n.id);
    if (!p) continue;
    const cls = ['node', n.kind];
    if (changedNodes.has(n.id)) cls.push('changed');
    if (n.id === selected) cls.push('selected');
    const key = grouped.get(n.id);
    const group = el('g', { class: cls.join(' '), transform: `translate(${p.x},${p.y})`, 'data-node': n.id });
    group.append(el('rect', { width: NODE_W, height: key ? GROUPED_H : NODE_H, rx: 4 }));
    const t1 = el('text', { x: 6, y: 14 });
    t1.textContent = n.label;
    const t2 = el('text', { x: 6, y: 27 });
    t2.textContent = n.detail;
    group.append(t1, t2);
    if (key) {
      // The key to a grouped leaf: its slot, inside the leaf (the group's edge carries the rights).
      const tag = el('g', { class: keyClass('edge', key, changedEdges.has(key.id)), 'data-edge': key.id });
      const t3 = el('text', { x: 6, y: 40 });
      t3.textContent = `slot ${slotText(key)}`;
      tag.append(t3);
      group.append(tag);
    }
    root.append(group);
  }
  svg.append(root);
  // One listener for every node (not one each).
  svg.addEventListener('click', (ev) => {
    const node = (ev.target as Element).closest('[data-node]');
    if (node) onSelect(Number(node.getAttribute('data-node')));
  });
  host.replaceChildren(svg);
  // For the bench: the last draw's wait for its layout (queue included) and its SVG, in ms.
  document.body.dataset.graphMs = `${(t1 - t0).toFixed(0)} ${(performance.now() - t1).toFixed(0)}`;
  return true;
}
