// The capability graph of a machine as data: objects (domains, key pages, data pages,
// meters, devices) as nodes, keys as edges labelled by slot and rights, void keys kept
// as severed edges; and the difference between two such graphs (what a step changed).
import { DOMAIN_STATE_NAMES, DomainSlot, KeyKind, MeterRights, ObjectKind, type Store } from '@keyvm/core';
import { DEVICE_TABLE } from '@keyvm/interpreter';

export type NodeKind = 'domain' | 'keys' | 'data' | 'meter' | 'device' | 'gone';

export interface GraphNode {
  /** Object id; a key to an object that no longer exists points at a 'gone' node with its old id. */
  readonly id: number;
  readonly kind: NodeKind;
  /** Short name, e.g. `domain #4` (`domain worker #4` when named), `data #2 (256 w)`, `meter #1 time`. */
  readonly label: string;
  /** A second line: state, size, what a meter has left, a device's type. */
  readonly detail: string;
  /** Changes whenever what the node shows changes (state, contents, size, what is left). */
  readonly fingerprint: string;
}

export type EdgeRights =
  | 'read-write'
  | 'read-only'
  | 'gate'
  | 'resume'
  | 'meter-control'
  | 'meter-use'
  | 'device'
  | 'parent'
  | 'keeper';

export interface GraphEdge {
  /** Stable identity: `from:slot` for a key in a slot, `from:parent` / `from:keeper` for meters. */
  readonly id: string;
  readonly from: number;
  readonly to: number;
  /** Slot index in the source key page, or -1 for a meter's parent and -2 for its keeper. */
  readonly slot: number;
  /** Label drawn on the edge: the slot (by name for a domain's special slots) and the rights. */
  readonly label: string;
  readonly rights: EdgeRights;
  readonly readOnly: boolean;
  /** The key is void: its object was severed, destroyed, or the resume key was used. */
  readonly severed: boolean;
}

export interface Graph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

const SLOT_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(DomainSlot).map(([name, slot]) => [slot, name]),
);

/** Words of a data page folded into its fingerprint; beyond this, size and version only. */
export const FINGERPRINT_WORDS = 4096;

const resourceName = (r: number): string => (r === 0 ? 'time' : r === 1 ? 'memory' : `resource ${r}`);
const remainingText = (n: number): string => (n === Number.POSITIVE_INFINITY ? 'unlimited' : `${n} left`);

/** A name and a space, or '' without one. */
const named = (name: string | null): string => (name === null ? '' : `${name} `);

function foldWords(words: Int32Array): number {
  let h = 0x811c9dc5;
  const n = Math.min(words.length, FINGERPRINT_WORDS);
  for (let i = 0; i < n; i++) h = Math.imul(h ^ words[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * The capability graph of a store, nodes in id order, edges in (from, slot) order.
 * `nameOf` gives a domain's source name as shown (`domain worker #9`), or null.
 */
export function graphOf(store: Store, nameOf: (domain: number) => string | null = () => null): Graph {
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const gone = new Set<number>();
  for (const o of store.objects()) {
    switch (o.kind) {
      case ObjectKind.dataPage:
        nodes.push({
          id: o.id,
          kind: 'data',
          label: `data #${o.id}`,
          detail: `${o.size} words`,
          fingerprint: `${o.version}:${o.size}:${foldWords(o.words)}`,
        });
        break;
      case ObjectKind.keyPage: {
        const state = o.isDomain ? o.slots[DomainSlot.STATE] : undefined;
        const stateName =
          state?.kind === KeyKind.number ? (DOMAIN_STATE_NAMES[state.value] ?? `state ${state.value}`) : '';
        nodes.push({
          id: o.id,
          kind: o.isDomain ? 'domain' : 'keys',
          label: o.isDomain ? `domain ${named(nameOf(o.id))}#${o.id}` : `keys #${o.id}`,
          detail: o.isDomain ? stateName : `${o.size} slots`,
          fingerprint: `${o.version}:${o.size}:${stateName}:${o.slots.map((k) => `${k.kind}.${k.target}.${k.version}.${k.value}`).join(',')}`,
        });
        o.slots.forEach((raw, slot) => {
          if (raw.kind === KeyKind.null || raw.kind === KeyKind.number) return;
          const live = store.normalize(raw).kind !== KeyKind.null;
          const target = store.object(raw.target);
          if (target === undefined) gone.add(raw.target);
          const rights = rightsOf(raw.kind, raw.value);
          const slotName = o.isDomain ? SLOT_NAMES[slot] : undefined;
          edges.push({
            id: `${o.id}:${slot}`,
            from: o.id,
            to: raw.target,
            slot,
            label: `${slotName ? `${slot} ${slotName}` : `${slot}`} ${rights}${live ? '' : ' (severed)'}`,
            rights,
            readOnly: rights === 'read-only' || rights === 'meter-use',
            severed: !live,
          });
        });
        break;
      }
      case ObjectKind.meter:
        nodes.push({
          id: o.id,
          kind: 'meter',
          label: `meter #${o.id} ${resourceName(o.resource)}`,
          detail: remainingText(o.remaining),
          fingerprint: `${o.version}:${o.remaining}:${o.keeper.target}`,
        });
        if (o.parent !== null)
          edges.push({
            id: `${o.id}:parent`,
            from: o.id,
            to: o.parent.id,
            slot: -1,
            label: 'parent',
            rights: 'parent',
            readOnly: false,
            severed: false,
          });
        if (o.keeper.kind !== KeyKind.null) {
          const live = store.normalize(o.keeper).kind !== KeyKind.null;
          if (store.object(o.keeper.target) === undefined) gone.add(o.keeper.target);
          edges.push({
            id: `${o.id}:keeper`,
            from: o.id,
            to: o.keeper.target,
            slot: -2,
            label: `keeper${live ? '' : ' (severed)'}`,
            rights: 'keeper',
            readOnly: false,
            severed: !live,
          });
        }
        break;
      case ObjectKind.device: {
        const name = DEVICE_TABLE.find((d) => d.type === o.deviceType)?.name ?? `device type ${o.deviceType}`;
        nodes.push({
          id: o.id,
          kind: 'device',
          label: `${name} #${o.id}`,
          detail: `${o.transcript.length} recorded`,
          fingerprint: `${o.version}:${o.transcript.length}`,
        });
        break;
      }
    }
  }
  for (const id of [...gone].sort((a, b) => a - b))
    nodes.push({ id, kind: 'gone', label: `gone #${id}`, detail: 'destroyed', fingerprint: 'gone' });
  return { nodes, edges };
}

function rightsOf(kind: number, value: number): EdgeRights {
  switch (kind) {
    case KeyKind.page:
      return 'read-write';
    case KeyKind.readPage:
      return 'read-only';
    case KeyKind.domain:
      return 'gate';
    case KeyKind.resume:
      return 'resume';
    case KeyKind.meter:
      return value & MeterRights.control ? 'meter-control' : 'meter-use';
    default:
      return 'device';
  }
}

export interface GraphDiff {
  readonly addedNodes: readonly number[];
  readonly removedNodes: readonly number[];
  /** Nodes in both whose fingerprint changed. */
  readonly changedNodes: readonly number[];
  /** Edge ids new in `after` or whose key changed (target, rights or severed). */
  readonly addedEdges: readonly string[];
  /** Edge ids gone from `after` (the slot was cleared). */
  readonly removedEdges: readonly string[];
}

const edgeValue = (e: GraphEdge): string => `${e.to}|${e.rights}|${e.severed}`;

/** What changed from `before` to `after`. */
export function diffGraphs(before: Graph, after: Graph): GraphDiff {
  const oldNodes = new Map(before.nodes.map((n) => [n.id, n]));
  const newNodes = new Map(after.nodes.map((n) => [n.id, n]));
  const oldEdges = new Map(before.edges.map((e) => [e.id, e]));
  const newEdges = new Map(after.edges.map((e) => [e.id, e]));
  const addedNodes: number[] = [];
  const changedNodes: number[] = [];
  for (const n of after.nodes) {
    const o = oldNodes.get(n.id);
    if (o === undefined || o.kind !== n.kind) addedNodes.push(n.id);
    else if (o.fingerprint !== n.fingerprint) changedNodes.push(n.id);
  }
  const removedNodes = before.nodes.filter((n) => newNodes.get(n.id)?.kind !== n.kind).map((n) => n.id);
  const addedEdges = after.edges
    .filter((e) => {
      const o = oldEdges.get(e.id);
      return o === undefined || edgeValue(o) !== edgeValue(e);
    })
    .map((e) => e.id);
  const removedEdges = before.edges.filter((e) => !newEdges.has(e.id)).map((e) => e.id);
  return { addedNodes, removedNodes, changedNodes, addedEdges, removedEdges };
}
