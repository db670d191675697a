import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TraceRecord } from '../../server/src/chat/trace.ts';
import type { MessageTimes } from './chatFleet.ts';

/**
 * `bench:chat -- --nodes 2 --trace DIR`: joins the nodes' chat traces (server/src/chat/trace.ts,
 * one NDJSON file per node process) with the peers' own times per message (sent, answered,
 * first/last delivery) by the idempotency key `<prefix>-<n>`, and prints each phase of the
 * path: p50 / p99 over messages, and its mean over the 1 % slowest messages (by sent → last
 * cross-node delivery), which is where the delivery p99 comes from.
 */

interface PerMessage {
  origin?: string;
  send?: Extract<TraceRecord, { k: 'send' }>;
  batch?: Extract<TraceRecord, { k: 'batch' }>;
  pub?: number;
  bus: Map<string, Extract<TraceRecord, { k: 'bus' }>>;
}

export function printTrace(dir: string, m: MessageTimes): void {
  const byId = new Map<string, PerMessage>();
  const entry = (id: string): PerMessage => {
    let e = byId.get(id);
    if (!e) byId.set(id, (e = { bus: new Map() }));
    return e;
  };
  const files = readdirSync(dir).filter((f) => f.startsWith('chat-trace-'));
  for (const file of files) {
    for (const line of readFileSync(path.join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line) as TraceRecord;
      const e = entry(r.id);
      if (r.k === 'send') Object.assign(e, { send: r, origin: file });
      else if (r.k === 'batch') e.batch = r;
      else if (r.k === 'pub') e.pub = r.t;
      else e.bus.set(file, r);
    }
  }
  type Row = Record<string, number>;
  const rows: Row[] = [];
  const sizes: number[] = [];
  for (const e of byId.values()) {
    if (!e.send?.key || !e.batch || e.pub === undefined) continue;
    const n = Number(e.send.key.slice(e.send.key.lastIndexOf('-') + 1));
    const sent = m.sentAt[n]!;
    const own = e.bus.get(e.origin!);
    const other = [...e.bus.entries()].find(([f]) => f !== e.origin)?.[1];
    if (!(sent > 0) || !own || !other) continue;
    sizes.push(e.batch.size);
    rows.push({
      'peer → origin node (request read)': e.send.recv - sent,
      'accept (rate limit, checks, screen)': e.send.queued - e.send.recv,
      'room queue: waiting for the batch in flight': e.batch.start - e.send.queued,
      'store: the batch statement + commit': e.batch.stored - e.batch.start,
      'publish acknowledged by Redis': e.pub - e.batch.stored,
      'stored → off the bus, origin node': own.t - e.batch.stored,
      'stored → off the bus, other node': other.t - e.batch.stored,
      'fan-out writes, other node': other.written - other.t,
      'other node written → its last delivery read': m.lastCross[n]! - other.written,
      'answer written → read by the sender': m.ackAt[n]! - e.send.answered,
      'TOTAL sent → answer': m.ackAt[n]! - sent,
      'TOTAL sent → first cross-node delivery': m.firstCross[n]! - sent,
      'TOTAL sent → last cross-node delivery': m.lastCross[n]! - sent,
    });
  }
  if (rows.length === 0) {
    console.log(`[bench:chat] trace: no complete message in ${files.length} file(s) of ${dir}`);
    return;
  }
  const total = 'TOTAL sent → last cross-node delivery';
  const slow = [...rows]
    .sort((a, b) => b[total]! - a[total]!)
    .slice(0, Math.max(1, rows.length / 100));
  const q = (v: number[], p: number): number => {
    const s = v.filter(Number.isFinite).sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
  };
  const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  console.log(
    `[bench:chat] trace: ${rows.length} messages (${files.length} node files); phase ms: p50 / p99 over messages | mean of the 1 % slowest (${slow.length})`,
  );
  for (const phase of Object.keys(rows[0]!)) {
    const v = rows.map((r) => r[phase]!);
    console.log(
      `[bench:chat]   ${phase.padEnd(46)} ${q(v, 50).toFixed(2).padStart(8)} / ${q(v, 99).toFixed(2).padStart(8)} | ${mean(
        slow.map((r) => r[phase]!),
      )
        .toFixed(2)
        .padStart(8)}`,
    );
  }
  console.log(
    `[bench:chat]   batch size p50 ${q(sizes, 50)}, p99 ${q(sizes, 99)}, max ${Math.max(...sizes)}, mean ${mean(sizes).toFixed(2)}`,
  );
}
