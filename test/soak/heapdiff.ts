import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * node test/soak/heapdiff.ts BASE.heapsnapshot END.heapsnapshot [--top N]
 *
 * What the server's heap gained between two V8 heap snapshots (the soak writes them with
 * TUTTI_SOAK_HEAP_SNAPSHOT=PREFIX): objects grouped by constructor (closures by function
 * name, other nodes by type), with the change in count and in self size, largest first.
 * A map keyed by peer, room or file that never shrinks shows as a class (or a
 * TokenBucket, a Set of ids) whose count grows with the number of bots that ever came;
 * `--retainers NAME` then shows what holds such objects in one snapshot.
 */

interface HeapSnapshotFile {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

function load(file: string): HeapSnapshotFile {
  return JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshotFile;
}

/**
 * For up to `limit` objects named `name` in a snapshot: one chain of retainers each (the
 * first strong one at every step, up to `depth`), to see what keeps them.
 */
export function retainers(file: string, name: string, limit = 3, depth = 12): string[] {
  const snap = load(file);
  const nf = snap.snapshot.meta.node_fields;
  const ef = snap.snapshot.meta.edge_fields;
  const nodeTypes = snap.snapshot.meta.node_types[0];
  const edgeTypes = snap.snapshot.meta.edge_types[0];
  const [nType, nName, nEdges] = ['type', 'name', 'edge_count'].map((f) => nf.indexOf(f));
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => ef.indexOf(f));
  const nodeCount = snap.nodes.length / nf.length;
  const retainer = new Int32Array(nodeCount).fill(-1);
  const via = new Int32Array(nodeCount).fill(-1);
  let e = 0;
  for (let n = 0; n < nodeCount; n++) {
    const edges = snap.nodes[n * nf.length + nEdges!]!;
    for (let k = 0; k < edges; k++, e += ef.length) {
      const kind = edgeTypes[snap.edges[e + eType!]!];
      if (kind === 'weak' || kind === 'shortcut') continue;
      const to = snap.edges[e + eTo!]! / nf.length;
      if (retainer[to] === -1) {
        retainer[to] = n;
        via[to] = e;
      }
    }
  }
  const label = (n: number): string => {
    const type = nodeTypes[snap.nodes[n * nf.length + nType!]!];
    return `${snap.strings[snap.nodes[n * nf.length + nName!]!]?.slice(0, 60)} (${type})`;
  };
  const edgeLabel = (edge: number): string => {
    const kind = edgeTypes[snap.edges[edge + eType!]!];
    const v = snap.edges[edge + eName!]!;
    return kind === 'element' || kind === 'hidden' ? `[${v}]` : `.${snap.strings[v]}`;
  };
  const out: string[] = [];
  for (let n = 0; n < nodeCount && out.length < limit; n++) {
    if (snap.strings[snap.nodes[n * nf.length + nName!]!] !== name) continue;
    if (nodeTypes[snap.nodes[n * nf.length + nType!]!] !== 'object') continue;
    const chain = [label(n)];
    const seen = new Set<number>([n]);
    for (let at = n, d = 0; d < depth && retainer[at]! >= 0; d++) {
      chain.push(`${edgeLabel(via[at]!)} of ${label(retainer[at]!)}`);
      at = retainer[at]!;
      if (seen.has(at)) break;
      seen.add(at);
    }
    out.push(chain.join('\n    ← '));
  }
  return out;
}

export interface Group {
  count: number;
  size: number;
}

/** Count and self size per group of a heap snapshot's nodes. */
export function groupHeap(file: string): Map<string, Group> {
  const snap = load(file);
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const stride = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const groups = new Map<string, Group>();
  for (let i = 0; i < snap.nodes.length; i += stride) {
    const type = types[snap.nodes[i + typeAt!]!] ?? '?';
    const name = snap.strings[snap.nodes[i + nameAt!]!] ?? '';
    const named = type === 'object' || type === 'closure' || type === 'native';
    const key = named
      ? `${name || '(anonymous)'}${type === 'object' ? '' : ` (${type})`}`
      : `(${type})`;
    const g = groups.get(key) ?? { count: 0, size: 0 };
    g.count++;
    g.size += snap.nodes[i + sizeAt!]!;
    groups.set(key, g);
  }
  return groups;
}

export interface Change {
  key: string;
  count: number;
  size: number;
  endCount: number;
}

/** end − base per group, the largest changes in size first. */
export function diffHeaps(base: Map<string, Group>, end: Map<string, Group>): Change[] {
  const keys = new Set([...base.keys(), ...end.keys()]);
  const out: Change[] = [];
  for (const key of keys) {
    const a = base.get(key) ?? { count: 0, size: 0 };
    const b = end.get(key) ?? { count: 0, size: 0 };
    if (a.count !== b.count || a.size !== b.size) {
      out.push({ key, count: b.count - a.count, size: b.size - a.size, endCount: b.count });
    }
  }
  return out.sort((x, y) => Math.abs(y.size) - Math.abs(x.size));
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '30' }, retainers: { type: 'string' } },
  });
  if (values.retainers && positionals.length === 1) {
    for (const chain of retainers(positionals[0]!, values.retainers)) console.log(chain);
    process.exit(0);
  }
  if (positionals.length !== 2) {
    console.error(
      'usage: node test/soak/heapdiff.ts BASE.heapsnapshot END.heapsnapshot [--top N]\n' +
        '       node test/soak/heapdiff.ts END.heapsnapshot --retainers CONSTRUCTOR',
    );
    process.exit(2);
  }
  const [base, end] = positionals.map(groupHeap) as [Map<string, Group>, Map<string, Group>];
  const total = (m: Map<string, Group>): number => [...m.values()].reduce((s, g) => s + g.size, 0);
  const KiB = (n: number): string => (n / 1024).toFixed(1);
  console.log(`self size: ${KiB(total(base))} → ${KiB(total(end))} KiB`);
  const changes = diffHeaps(base, end);
  const top = Number(values.top);
  console.log('Δ KiB      Δ count   count at end  group');
  for (const c of changes.slice(0, top)) {
    console.log(
      `${KiB(c.size).padStart(9)} ${String(c.count).padStart(9)} ${String(c.endCount).padStart(13)}  ${c.key}`,
    );
  }
  console.log('\nlargest growth in count:');
  for (const c of [...changes].sort((x, y) => y.count - x.count).slice(0, top)) {
    console.log(`${String(c.count).padStart(9)} ${KiB(c.size).padStart(9)} KiB  ${c.key}`);
  }
}
