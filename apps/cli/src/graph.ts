// `keyvm graph IMAGE`: the capability graph — which domain (or key page) holds
// which key to what — as Graphviz DOT, or as SVG drawn by a small deterministic
// layered layout (no Graphviz needed): domains in the top row, what they reach below.
import { DomainSlot, type Key, KeyKind, MeterRights, ObjectKind, type Store, UNLIMITED } from '@keyvm/core';
import { DEVICE_TABLE, Machine, type MachineApi } from '@keyvm/interpreter';
import { ExitCode } from './errors.js';
import { slotName } from './inspect.js';
import { loadInputOf, writeOutput } from './io.js';

export type NodeKind = 'domain' | 'keys' | 'data' | 'meter' | 'device';

export interface GraphNode {
  readonly id: number;
  readonly kind: NodeKind;
  readonly lines: readonly string[];
}

export interface GraphEdge {
  readonly from: number;
  readonly to: number;
  readonly label: string;
  /** Read-only page keys and use-only meter keys (and meter parents) are dashed. */
  readonly dashed: boolean;
}

export interface CapabilityGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  /** Objects left out by the node limit (domains are drawn first). */
  readonly omittedNodes: number;
  /** Edges left out: to or from objects not drawn, or past the edge limit. */
  readonly omittedEdges: number;
}

/** How much of a machine a graph draws: the rest is counted and said, not drawn. */
export interface GraphLimits {
  readonly maxNodes: number;
  /** Most edges; by default 8 per node. */
  readonly maxEdges?: number;
}

/** Default --max-nodes: a drawing people can read and a file any viewer opens. */
export const DEFAULT_MAX_NODES = 5000;
/** Labels listed on one edge (many keys from one page to one target): the rest are counted. */
const LABELS_PER_EDGE = 4;

const KEY_TEXT: Readonly<Record<number, string>> = {
  [KeyKind.page]: 'page',
  [KeyKind.readPage]: 'read-only',
  [KeyKind.domain]: 'gate',
  [KeyKind.resume]: 'resume',
  [KeyKind.meter]: 'meter',
  [KeyKind.device]: 'device',
};

const isWeak = (key: Key): boolean =>
  key.kind === KeyKind.readPage || (key.kind === KeyKind.meter && (key.value & MeterRights.control) === 0);

const amountText = (n: number): string =>
  n === UNLIMITED ? 'unlimited' : `${n.toLocaleString('en-US')} left`;

/** The graph of an image's store: every object a node, every key held in a key page an edge. */
export function capabilityGraph(
  machine: MachineApi,
  limits: GraphLimits = { maxNodes: DEFAULT_MAX_NODES },
): CapabilityGraph {
  const store: Store = machine.store;
  const maxEdges = limits.maxEdges ?? 8 * limits.maxNodes;
  // Which objects are drawn: domains first, then the others, by id, up to maxNodes.
  const drawn = new Set<number>();
  let total = 0;
  for (const o of store.objects()) {
    total++;
    if (drawn.size < limits.maxNodes && o.kind === ObjectKind.keyPage && o.isDomain) drawn.add(o.id);
  }
  for (const o of store.objects()) {
    if (drawn.size >= limits.maxNodes) break;
    drawn.add(o.id);
  }
  const nodes: GraphNode[] = [];
  const edges = new Map<
    string,
    { from: number; to: number; labels: string[]; more: number; dashed: boolean }
  >();
  let omittedEdges = 0;
  const addEdge = (from: number, to: number, label: string, dashed: boolean): void => {
    if (!drawn.has(to)) {
      omittedEdges++;
      return;
    }
    const id = `${from}>${to}>${dashed}`;
    const e = edges.get(id);
    if (e) {
      if (e.labels.length < LABELS_PER_EDGE) e.labels.push(label);
      else e.more++;
    } else if (edges.size < maxEdges) edges.set(id, { from, to, labels: [label], more: 0, dashed });
    else omittedEdges++;
  };
  for (const o of store.objects()) {
    if (!drawn.has(o.id)) continue;
    switch (o.kind) {
      case ObjectKind.keyPage: {
        if (o.isDomain) {
          const d = machine.domain(o.id);
          const root = o.id === machine.rootDomain ? 'root, ' : '';
          nodes.push({
            id: o.id,
            kind: 'domain',
            lines: [`domain #${o.id}`, `${root}${d.stateName}, ip ${d.ip}`],
          });
        } else {
          nodes.push({ id: o.id, kind: 'keys', lines: [`key page #${o.id}`, `${o.size} slots`] });
        }
        o.slots.forEach((raw, slot) => {
          const key = store.normalize(raw);
          const target = store.deref(key);
          if (target === undefined) return;
          // Every domain holds its own page in SELF; that edge says nothing.
          if (o.isDomain && slot === DomainSlot.SELF && target.id === o.id) return;
          const name = o.isDomain && slot < 12 ? ` ${slotName(slot)}` : '';
          addEdge(o.id, target.id, `${slot}${name}: ${KEY_TEXT[key.kind] ?? 'key'}`, isWeak(key));
        });
        break;
      }
      case ObjectKind.dataPage:
        nodes.push({ id: o.id, kind: 'data', lines: [`data page #${o.id}`, `${o.size} words`] });
        break;
      case ObjectKind.meter: {
        const resource = o.resource === 0 ? 'time' : 'memory';
        const prime = o.parent === null ? 'prime ' : '';
        nodes.push({
          id: o.id,
          kind: 'meter',
          lines: [`${prime}${resource} meter #${o.id}`, amountText(o.remaining)],
        });
        if (o.parent) addEdge(o.id, o.parent.id, 'parent', true);
        const keeper = store.deref(store.normalize(o.keeper));
        if (keeper) addEdge(o.id, keeper.id, 'keeper', false);
        break;
      }
      case ObjectKind.device:
        nodes.push({
          id: o.id,
          kind: 'device',
          lines: [`${DEVICE_TABLE[o.deviceType]?.name ?? 'device'} #${o.id}`, 'device'],
        });
        break;
    }
  }
  return {
    nodes,
    edges: [...edges.values()].map((e) => ({
      from: e.from,
      to: e.to,
      label: e.labels.join(', ') + (e.more > 0 ? ` (+${e.more.toLocaleString('en-US')} more)` : ''),
      dashed: e.dashed,
    })),
    omittedNodes: total - drawn.size,
    omittedEdges,
  };
}

// ---- DOT -------------------------------------------------------------------------------

const DOT_SHAPE: Readonly<Record<NodeKind, string>> = {
  domain: 'shape=box, style="rounded,filled,bold", fillcolor="#dbeafe"',
  keys: 'shape=folder, style=filled, fillcolor="#fef3c7"',
  data: 'shape=note, style=filled, fillcolor="#dcfce7"',
  meter: 'shape=hexagon, style=filled, fillcolor="#fce7f3"',
  device: 'shape=component, style=filled, fillcolor="#e5e7eb"',
};

const dotString = (s: string): string =>
  `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

export function toDot(g: CapabilityGraph): string {
  const out = [
    'digraph keyvm {',
    '  rankdir=TB;',
    '  node [fontname="monospace", fontsize=10];',
    '  edge [fontname="monospace", fontsize=9];',
  ];
  for (const n of g.nodes)
    out.push(`  n${n.id} [${DOT_SHAPE[n.kind]}, label=${dotString(n.lines.join('\n'))}];`);
  const domains = g.nodes.filter((n) => n.kind === 'domain');
  if (domains.length > 0) out.push(`  { rank=same; ${domains.map((n) => `n${n.id};`).join(' ')} }`);
  for (const e of g.edges) {
    const style = e.dashed ? ', style=dashed' : '';
    out.push(`  n${e.from} -> n${e.to} [label=${dotString(e.label)}${style}];`);
  }
  if (g.omittedNodes > 0 || g.omittedEdges > 0) out.push(`  // ${omittedText(g)}`);
  out.push('}');
  return `${out.join('\n')}\n`;
}

/** What a bounded graph left out, for people. */
export function omittedText(g: CapabilityGraph): string {
  return `not drawn: ${g.omittedNodes.toLocaleString('en-US')} objects and ${g.omittedEdges.toLocaleString('en-US')} keys (raise --max-nodes to draw more)`;
}

// ---- SVG -------------------------------------------------------------------------------

/**
 * Rows of the drawing: what domains use up top (meters, devices), the domains in
 * the middle, the pages they hold below, so most edges join neighbouring rows.
 */
const ROWS: readonly (readonly NodeKind[])[] = [['meter', 'device'], ['domain'], ['keys', 'data']];
/** Rows are ordered in this sequence, each by where its placed neighbours are. */
const PLACEMENT = [1, 0, 2];
const FILL: Readonly<Record<NodeKind, string>> = {
  domain: '#dbeafe',
  keys: '#fef3c7',
  data: '#dcfce7',
  meter: '#fce7f3',
  device: '#e5e7eb',
};
const CHAR_W = 7;
const LABEL_CHAR_W = 6.2;
const LINE_H = 14;
const PAD = 10;
const GAP_X = 28;
const GAP_Y = 150;
const MARGIN = 30;
/** Room above the top row for arcs between its nodes. */
const TOP_ARCS = 60;

interface Box {
  readonly node: GraphNode;
  x: number;
  y: number;
  readonly w: number;
  readonly h: number;
  readonly row: number;
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

const overlaps = (a: Rect, b: Rect): boolean =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** Rectangles by the grid cells they cover, so finding those near a rectangle is cheap. */
class RectGrid {
  static readonly CELL = 64;
  readonly #cells = new Map<string, Rect[]>();

  #keys(r: Rect): string[] {
    const c = RectGrid.CELL;
    const keys: string[] = [];
    for (let gx = Math.floor(r.x / c); gx <= Math.floor((r.x + r.w) / c); gx++)
      for (let gy = Math.floor(r.y / c); gy <= Math.floor((r.y + r.h) / c); gy++) keys.push(`${gx},${gy}`);
    return keys;
  }

  add(r: Rect): void {
    for (const k of this.#keys(r)) {
      const cell = this.#cells.get(k);
      if (cell === undefined) this.#cells.set(k, [r]);
      else cell.push(r);
    }
  }

  /** Every rectangle sharing a cell with `r`, each once. */
  near(r: Rect): Set<Rect> {
    const found = new Set<Rect>();
    for (const k of this.#keys(r)) for (const o of this.#cells.get(k) ?? []) found.add(o);
    return found;
  }
}

const xml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (n: number): string => String(Math.round(n * 10) / 10);

/**
 * A deterministic layered drawing: three rows, each ordered by the mean position of
 * its neighbours in rows already placed; edge ends spread along the sides of boxes;
 * each label slides along its edge to the first place where it overlaps nothing.
 */
export function toSvg(g: CapabilityGraph): string {
  const rows: Box[][] = ROWS.map((kinds, row) =>
    g.nodes
      .filter((n) => kinds.includes(n.kind))
      .map((node) => ({
        node,
        x: 0,
        y: 0,
        w: Math.max(...node.lines.map((l) => l.length)) * CHAR_W + 2 * PAD,
        h: node.lines.length * LINE_H + PAD,
        row,
      })),
  );
  const boxes = new Map<number, Box>();
  const neighbours = new Map<number, number[]>();
  const push = <K, V>(map: Map<K, V[]>, key: K, value: V): void => {
    const list = map.get(key);
    if (list === undefined) map.set(key, [value]);
    else list.push(value);
  };
  for (const e of g.edges) {
    if (e.from === e.to) continue;
    push(neighbours, e.from, e.to);
    push(neighbours, e.to, e.from);
  }
  // (Loops, not spreads: a row may hold more boxes than a call takes arguments.)
  const rowHeight = rows.map((row) => row.reduce((m, b) => Math.max(m, b.h), 0));
  const rowTop: number[] = [];
  let y = MARGIN + TOP_ARCS;
  rows.forEach((_, i) => {
    rowTop.push(y);
    if (rows[i]!.length > 0) y += rowHeight[i]! + GAP_Y;
  });
  for (const i of PLACEMENT) {
    const row = rows[i]!;
    const key = (b: Box): number => {
      const xs = (neighbours.get(b.node.id) ?? []).flatMap((id) => {
        const p = boxes.get(id);
        return p ? [p.x + p.w / 2] : [];
      });
      return xs.length === 0 ? Number.POSITIVE_INFINITY : xs.reduce((a, c) => a + c, 0) / xs.length;
    };
    const keys = new Map(row.map((b) => [b, key(b)]));
    row.sort((a, b) => keys.get(a)! - keys.get(b)! || a.node.id - b.node.id);
    let x = MARGIN;
    for (const b of row) {
      b.x = x;
      b.y = rowTop[i]! + (rowHeight[i]! - b.h) / 2;
      x += b.w + GAP_X;
      boxes.set(b.node.id, b);
    }
  }
  const rowWidth = (row: Box[]): number => row.reduce((a, b) => a + b.w, 0) + GAP_X * (row.length - 1);
  const width = Math.max(...rows.map(rowWidth), 300) + 2 * MARGIN;
  for (const row of rows) {
    const shift = (width - 2 * MARGIN - rowWidth(row)) / 2;
    for (const b of row) b.x += shift;
  }
  const height = y - GAP_Y + MARGIN + 30;

  // Spread the ends of the edges along the side of each box they attach to.
  type Side = 'top' | 'bottom';
  const ends = new Map<string, { edge: number; other: number }[]>();
  const sideOf = (a: Box, b: Box): Side => (b.row > a.row ? 'bottom' : 'top');
  g.edges.forEach((e, i) => {
    const a = boxes.get(e.from);
    const b = boxes.get(e.to);
    if (!a || !b || a === b) return;
    const sa = `${e.from}:${sideOf(a, b)}`;
    const sb = `${e.to}:${sideOf(b, a)}`;
    push(ends, sa, { edge: i, other: b.x + b.w / 2 });
    push(ends, sb, { edge: i, other: a.x + a.w / 2 });
  });
  // Each side's ends in order, once: the position of every edge's end on it.
  const slot = new Map<string, { at: number; of: number }>();
  for (const [key, list] of ends) {
    list.sort((p, q) => p.other - q.other || p.edge - q.edge);
    for (let at = 0; at < list.length; at++) slot.set(`${key}:${list[at]!.edge}`, { at, of: list.length });
  }
  const anchor = (box: Box, side: Side, edge: number): [number, number] => {
    const { at, of } = slot.get(`${box.node.id}:${side}:${edge}`)!;
    const x = box.x + (box.w * (at + 1)) / (of + 1);
    return [x, side === 'top' ? box.y : box.y + box.h];
  };

  // Labels go where they overlap no box and no label placed before them; what is
  // taken is kept in a grid of cells, so a label is checked against its neighbours only.
  const taken = new RectGrid();
  for (const b of boxes.values()) taken.add({ x: b.x - 2, y: b.y - 2, w: b.w + 4, h: b.h + 4 });
  const labels: string[] = [];
  const placeLabel = (text: string, at: (t: number) => [number, number]): void => {
    const w = text.length * LABEL_CHAR_W + 6;
    const h = 14;
    const rectAt = (t: number): Rect => {
      const [x, y] = at(t);
      return { x: x - w / 2, y: y - h / 2, w, h };
    };
    const tries = [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.45, 0.55, 0.35, 0.65, 0.25, 0.75, 0.15, 0.85];
    // The first free place, or else the one overlapping the least.
    const overlapArea = (c: Rect): number => {
      let sum = 0;
      for (const o of taken.near(c)) {
        if (overlaps(c, o))
          sum +=
            (Math.min(c.x + c.w, o.x + o.w) - Math.max(c.x, o.x)) *
            (Math.min(c.y + c.h, o.y + o.h) - Math.max(c.y, o.y));
      }
      return sum;
    };
    let r = rectAt(tries[0]!);
    let best = Number.POSITIVE_INFINITY;
    for (const t of tries) {
      const c = rectAt(t);
      const area = overlapArea(c);
      if (area < best) [r, best] = [c, area];
      if (area === 0) break;
    }
    taken.add(r);
    labels.push(
      `<rect x="${num(r.x)}" y="${num(r.y)}" width="${num(w)}" height="${h}" rx="3" fill="#ffffff" fill-opacity="0.9"/>`,
      `<text x="${num(r.x + w / 2)}" y="${num(r.y + h / 2 + 3.5)}" text-anchor="middle" font-size="10" fill="#111827">${xml(text)}</text>`,
    );
  };

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" font-family="monospace" font-size="12">`,
    '<defs>',
    '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#374151"/></marker>',
    '</defs>',
    `<rect x="0" y="0" width="${num(width)}" height="${num(height)}" fill="#ffffff"/>`,
  ];
  g.edges.forEach((e, i) => {
    const a = boxes.get(e.from);
    const b = boxes.get(e.to);
    if (!a || !b) return;
    const dash = e.dashed ? ' stroke-dasharray="5,4"' : '';
    const stroke = `fill="none" stroke="#374151" stroke-width="1.2"${dash} marker-end="url(#arrow)"`;
    if (a === b) {
      const x = a.x + a.w;
      const cy = a.y + a.h / 2;
      out.push(
        `<path d="M${num(x)},${num(cy - 6)} C${num(x + 40)},${num(cy - 30)} ${num(x + 40)},${num(cy + 30)} ${num(x)},${num(cy + 6)}" ${stroke}/>`,
      );
      placeLabel(e.label, () => [x + 34 + (e.label.length * LABEL_CHAR_W) / 2, cy]);
      return;
    }
    const [x1, y1] = anchor(a, sideOf(a, b), i);
    const [x2, y2] = anchor(b, sideOf(b, a), i);
    if (a.row === b.row) {
      const lift = Math.min(30 + Math.abs(x2 - x1) * 0.12, a.row === 0 ? TOP_ARCS : GAP_Y * 0.6);
      const top = Math.min(y1, y2) - lift;
      out.push(
        `<path d="M${num(x1)},${num(y1)} C${num(x1)},${num(top)} ${num(x2)},${num(top)} ${num(x2)},${num(y2)}" ${stroke}/>`,
      );
      // A point of the cubic Bezier at t (both control points at height `top`).
      placeLabel(e.label, (t) => {
        const u = 1 - t;
        return [
          u * u * u * x1 + 3 * u * u * t * x1 + 3 * u * t * t * x2 + t * t * t * x2,
          u * u * u * y1 + 3 * u * u * t * top + 3 * u * t * t * top + t * t * t * y2,
        ];
      });
      return;
    }
    out.push(`<path d="M${num(x1)},${num(y1)} L${num(x2)},${num(y2)}" ${stroke}/>`);
    placeLabel(e.label, (t) => [x1 + (x2 - x1) * t, y1 + (y2 - y1) * t]);
  });
  for (const b of boxes.values()) {
    const radius = b.node.kind === 'domain' ? 8 : 2;
    const weight = b.node.kind === 'domain' ? 2 : 1;
    out.push(
      `<rect x="${num(b.x)}" y="${num(b.y)}" width="${num(b.w)}" height="${num(b.h)}" rx="${radius}" fill="${FILL[b.node.kind]}" stroke="#1f2937" stroke-width="${weight}"/>`,
    );
    b.node.lines.forEach((line, j) => {
      const weightAttr = j === 0 ? ' font-weight="bold"' : '';
      out.push(
        `<text x="${num(b.x + b.w / 2)}" y="${num(b.y + PAD / 2 + LINE_H * (j + 1) - 3)}" text-anchor="middle"${weightAttr}>${xml(line)}</text>`,
      );
    });
  }
  for (const l of labels) out.push(l);
  const omitted = g.omittedNodes > 0 || g.omittedEdges > 0 ? `; ${omittedText(g)}` : '';
  out.push(
    `<text x="${MARGIN}" y="${num(height - 14)}" font-size="10" fill="#6b7280">dashed: read-only page key, use-only meter key, meter parent${xml(omitted)}</text>`,
  );
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

export interface GraphFlags {
  svg?: boolean;
  output?: string;
  maxNodes?: number;
}

export async function graphCommand(file: string, flags: GraphFlags): Promise<ExitCode> {
  const input = await loadInputOf(file, ['image'], '; make one with `keyvm run FILE --save IMAGE`');
  const graph = capabilityGraph(new Machine(input.store), { maxNodes: flags.maxNodes ?? DEFAULT_MAX_NODES });
  await writeOutput(flags.output ?? '-', flags.svg ? toSvg(graph) : toDot(graph));
  return ExitCode.ok;
}
