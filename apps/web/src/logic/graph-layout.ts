// The capability graph as ELK's input (node sizes, labelled edges, the layered options, fan-outs
// of leaves packed into groups), ELK's output read back as absolute positions, and a synthetic
// machine-like graph used to warm the layout engine; shared by the page and the bench.
import type { ElkNode } from 'elkjs/lib/elk-api.js';
import type { EdgeRights, Graph, GraphEdge, GraphNode, NodeKind } from './graph.js';

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

/**
 * A fan-out of leaves is packed into a group: at least GROUP_MIN keys in one key page (a
 * domain's named slots aside), each to an object that no other key reaches and that holds no
 * key itself (a data page, a device, an empty key page), of one kind, with the same rights. The
 * group is one node of the layered layout, joined to the key page by one edge, its members in
 * rows in slot order (groupGrid); each member shows its key's slot. Without this, 200 data pages
 * in one key page make one layer: a 10,400-pixel column, 200 label dummies, most of ELK's time.
 * Measured (bench, Node, warm): a chain of 33 key pages holding 5 data pages each lays out in
 * ~120 ms grouped at 5, ~300 ms at 8 (no group), and reads as well.
 */
export const GROUP_MIN = 5;
/** A grouped leaf is a line taller than a node: the slot of the key to it. */
export const GROUPED_H = 46;
/** Room above a group's members for its title. */
export const GROUP_TITLE_H = 22;

const GROUP_GAP = 8;
const GROUP_TOP = GROUP_TITLE_H + 4;
/** Width over height a group aims at. */
const GROUP_ASPECT = 2;

/**
 * A group's members are equal boxes in slot order, so they sit in a grid of `cols` columns, about
 * GROUP_ASPECT times as wide as tall; member `i` is at `cell(i)` from the group's corner. (ELK's
 * `box` algorithm, as a compound node's layout, drew the same grid at ~25% more ELK time through
 * its hierarchy handling: 84 vs 61 ms for the 32 groups of the bench's tree, warm, in Node.)
 */
export function groupGrid(members: number): {
  readonly cols: number;
  readonly width: number;
  readonly height: number;
  readonly cell: (i: number) => Point;
} {
  const cellW = NODE_W + GROUP_GAP;
  const cellH = GROUPED_H + GROUP_GAP;
  const cols = Math.max(
    1,
    Math.min(members, Math.round(Math.sqrt((members * GROUP_ASPECT * cellH) / cellW))),
  );
  const rows = Math.ceil(members / cols);
  return {
    cols,
    width: GROUP_GAP + cols * cellW,
    height: GROUP_TOP + rows * cellH,
    cell: (i) => ({ x: GROUP_GAP + (i % cols) * cellW, y: GROUP_TOP + Math.floor(i / cols) * cellH }),
  };
}

export interface LeafGroup {
  readonly id: string;
  /** The key page holding the keys. */
  readonly from: number;
  readonly kind: NodeKind;
  readonly rights: EdgeRights;
  readonly readOnly: boolean;
  readonly severed: boolean;
  /** The grouped keys in slot order; each one's `to` is a member. */
  readonly edges: readonly GraphEdge[];
  /** What the group's one edge says, e.g. `200 keys read-write`. */
  readonly label: string;
  /** What the group's frame says, e.g. `200 data pages, slots 0-199`. */
  readonly title: string;
}

export interface Grouping {
  readonly groups: readonly LeafGroup[];
  /** A grouped leaf's id to its group. */
  readonly groupOfNode: ReadonlyMap<number, LeafGroup>;
  /** A grouped key's edge id to its group. */
  readonly groupOfEdge: ReadonlyMap<string, LeafGroup>;
}

const KIND_NOUNS: Readonly<Record<NodeKind, string>> = {
  domain: 'domains',
  keys: 'key pages',
  data: 'data pages',
  meter: 'meters',
  device: 'devices',
  gone: 'destroyed objects',
};

/** The slot part of a key's label (`17`, `8 DATA`): the label less its rights and state. */
export const slotText = (e: GraphEdge): string => {
  const at = e.label.indexOf(` ${e.rights}`);
  return at < 0 ? String(e.slot) : e.label.slice(0, at);
};

/** The fan-outs of leaves of `g` to pack into groups (see GROUP_MIN). */
export function groupLeaves(g: Graph, min = GROUP_MIN): Grouping {
  const kinds = new Map(g.nodes.map((n) => [n.id, n.kind]));
  const inDegree = new Map<number, number>();
  const outDegree = new Map<number, number>();
  const drawn = g.edges.filter((e) => kinds.has(e.from) && kinds.has(e.to));
  for (const e of drawn) {
    inDegree.set(e.to, (inDegree.get(e.to) ?? 0) + 1);
    outDegree.set(e.from, (outDegree.get(e.from) ?? 0) + 1);
  }
  const buckets = new Map<string, GraphEdge[]>();
  for (const e of drawn) {
    if (e.slot < 0 || e.from === e.to || inDegree.get(e.to) !== 1 || outDegree.has(e.to)) continue;
    // A domain's named slots (its code, stack, data page, meters...) keep their own edges.
    if (kinds.get(e.from) === 'domain' && slotText(e) !== String(e.slot)) continue;
    const key = `group:${e.from}:${kinds.get(e.to)}:${e.rights}:${e.severed ? 'severed' : 'live'}`;
    const bucket = buckets.get(key);
    if (bucket) bucket.push(e);
    else buckets.set(key, [e]);
  }
  const groups: LeafGroup[] = [];
  const groupOfNode = new Map<number, LeafGroup>();
  const groupOfEdge = new Map<string, LeafGroup>();
  for (const [id, edges] of buckets) {
    if (edges.length < min) continue;
    const first = edges[0]!;
    const kind = kinds.get(first.to)!;
    const slots = edges.map((e) => e.slot);
    const run = slots.every((s, i) => s === slots[0]! + i);
    const group: LeafGroup = {
      id,
      from: first.from,
      kind,
      rights: first.rights,
      readOnly: first.readOnly,
      severed: first.severed,
      edges,
      label: `${edges.length} keys ${first.rights}${first.severed ? ' (severed)' : ''}`,
      title: `${edges.length} ${KIND_NOUNS[kind]}, ${run ? `slots ${slots[0]}-${slots.at(-1)}` : 'by slot'}`,
    };
    groups.push(group);
    for (const e of edges) {
      groupOfNode.set(e.to, group);
      groupOfEdge.set(e.id, group);
    }
  }
  return { groups, groupOfNode, groupOfEdge };
}

/**
 * The graph's shape (what the layout depends on): node ids and kinds, edge endpoints, rights and
 * label lengths (kinds and rights decide the groups).
 */
export const shapeKey = (g: Graph): string =>
  `${g.nodes.map((n) => `${n.id}${n.kind}`).join(',')}|${g.edges.map((e) => `${e.id}>${e.to}:${e.rights}${e.severed ? '!' : ''}${e.label.length}`).join(',')}`;

const labelOf = (text: string) => [{ text, width: text.length * CHAR_W, height: 12 }];
/** The id of a group's one edge in ELK's input and output. */
export const groupEdgeId = (group: LeafGroup): string => `${group.id}>`;

/**
 * ELK's input for `g`: nodes, and groups in place of their first member, each one node the size
 * of its grid; edges to objects not in the graph are left out, a group's keys are one edge to
 * the group.
 */
export function elkGraph(g: Graph, grouping: Grouping = groupLeaves(g)): ElkNode {
  const ids = new Set(g.nodes.map((n) => n.id));
  const children: ElkNode[] = [];
  for (const n of g.nodes) {
    const group = grouping.groupOfNode.get(n.id);
    if (group === undefined) children.push({ id: String(n.id), width: NODE_W, height: NODE_H });
    else if (group.edges[0]!.to === n.id) {
      const grid = groupGrid(group.edges.length);
      children.push({ id: group.id, width: grid.width, height: grid.height });
    }
  }
  return {
    id: 'root',
    layoutOptions: { ...LAYOUT_OPTIONS },
    children,
    edges: [
      ...g.edges
        .filter((e) => ids.has(e.from) && ids.has(e.to) && !grouping.groupOfEdge.has(e.id))
        .map((e) => ({
          id: e.id,
          sources: [String(e.from)],
          targets: [String(e.to)],
          labels: labelOf(e.label),
        })),
      ...grouping.groups.map((group) => ({
        id: groupEdgeId(group),
        sources: [String(group.from)],
        targets: [group.id],
        labels: labelOf(group.label),
      })),
    ],
  };
}

export interface Point {
  readonly x: number;
  readonly y: number;
}
export interface Box extends Point {
  readonly width: number;
  readonly height: number;
}

/** ELK's output in the drawing's coordinates. */
export interface Laid {
  /** Each object's top left corner (a grouped leaf's too, inside its group). */
  readonly positions: ReadonlyMap<number, Point>;
  /** Each drawn edge (by edge id, a group's by groupEdgeId) as a polyline, with its label's place. */
  readonly edges: ReadonlyMap<string, { readonly points: readonly Point[]; readonly label?: Point }>;
  /** Each group's frame, by group id. */
  readonly groups: ReadonlyMap<string, Box>;
  readonly width: number;
  readonly height: number;
}

/** Read ELK's laid-out `result` for `grouping` back: a group's members go in its grid. */
export function readLayout(result: ElkNode, grouping: Grouping): Laid {
  const positions = new Map<number, Point>();
  const groups = new Map<string, Box>();
  const byId = new Map(grouping.groups.map((group) => [group.id, group]));
  for (const c of result.children ?? []) {
    const x = c.x ?? 0;
    const y = c.y ?? 0;
    const group = byId.get(c.id);
    if (group) {
      groups.set(c.id, { x, y, width: c.width ?? 0, height: c.height ?? 0 });
      const grid = groupGrid(group.edges.length);
      group.edges.forEach((e, i) => {
        const at = grid.cell(i);
        positions.set(e.to, { x: x + at.x, y: y + at.y });
      });
    } else positions.set(Number(c.id), { x, y });
  }
  const edges = new Map<string, { points: Point[]; label?: Point }>();
  for (const e of result.edges ?? []) {
    const s = e.sections?.[0];
    if (!s) continue;
    const points = [s.startPoint, ...(s.bendPoints ?? []), s.endPoint];
    const l = e.labels?.[0];
    edges.set(e.id, l ? { points, label: { x: l.x ?? 0, y: (l.y ?? 0) + 9 } } : { points });
  }
  return { positions, edges, groups, width: result.width ?? 0, height: result.height ?? 0 };
}

/**
 * A machine-like graph of `size` objects (a domain, its meter chain, a chain of key pages holding
 * data pages, a few of them pointing back) for warming the layout engine: it exercises the same
 * phases as a real capability graph (several layers, groups of leaves, labels, long edges).
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
  // A chain of key pages (every seventh object), each holding the next six objects: data pages
  // (a group when five or more are leaves) and the next key page; some pages point back.
  for (let id = 4; id < Math.max(size, 8); id++) {
    node(id, id % 7 === 3 ? 'keys' : 'data');
    edge(3 + 7 * Math.floor((id - 4) / 7), id, id);
    if (id % 11 === 0 && id % 7 !== 3) edge(id, 0, 1000 + id);
  }
  return { nodes, edges };
}
