import { performance } from 'node:perf_hooks';
import type { Logger } from '../kernel/log.ts';
import { dropLogger } from './dropLog.ts';
import { nodeInfoSchema, type NodeInfo, type NodeLoad } from './schemas.ts';
import { StallWatch, stallLimitMs } from './stallWatch.ts';
import { safeParseInput } from '@tutti/protocol/schemas';

/** One entry as the store holds it: raw JSON (validated here) and its age by the store's clock. */
export interface RegistryEntry {
  nodeId: string;
  raw: string;
  ageMs: number;
}

/** Where heartbeats live: an in-process hub (one node) or Redis (a cluster). */
export interface RegistryStore {
  /** Writes this node's entry; resolves the raw entry it replaced (null: none, e.g. reaped). */
  beat(info: NodeInfo): Promise<string | null>;
  scan(): Promise<RegistryEntry[]>;
  /** Removes an entry; resolves true only for the caller that actually removed it. */
  remove(nodeId: string): Promise<boolean>;
}

export interface NodeRegistryOptions {
  self: Pick<NodeInfo, 'nodeId' | 'httpUrl' | 'mediaAddress'>;
  /** Sampled at every heartbeat. */
  load: () => NodeLoad;
  log: Logger;
  heartbeatMs?: number;
  /** A node silent for longer than this is gone. */
  expiryMs?: number;
}

type Events = {
  nodeJoined: (info: NodeInfo) => void;
  nodeUpdated: (info: NodeInfo) => void;
  /**
   * Same node id, new process (it crashed and came back within expiryMs): its old peers and
   * pipes are gone, as after nodeLeft, but its seats are its own to clear (it does at start).
   */
  nodeRestarted: (info: NodeInfo, previous: NodeInfo) => void;
  /** Awaited before a dead node's entry is removed, so its seats are released first. */
  nodeLeft: (nodeId: string, last: NodeInfo | undefined) => void | Promise<void>;
  /**
   * This node's own entry had been reaped (it was frozen or cut off from Redis for longer
   * than expiryMs), so the others released its seats: re-reserve them.
   */
  selfReinstated: () => void | Promise<void>;
  /**
   * This process's event loop stalled for `stalledMs` (noticed once it runs again): whatever
   * this node held by being alive (room lives) may have been taken over meanwhile.
   */
  stalled: (stalledMs: number) => void;
};

/**
 * The live nodes of the cluster. Each node writes its own entry every heartbeat and reads
 * everyone's; a node whose entry is older than `expiryMs` is declared gone (nodeLeft, then
 * its entry is removed). Redis unreachable: the last view is kept and nobody is declared
 * gone on this node's say-so, nor for one expiry window after it comes back (the others may
 * not have beaten again yet); then the scans catch up. The same after this process's own
 * event loop stalled: every node in it (tests, or a crowded box) was as silent as we were,
 * and an entry that looks stale may only be stale by our stall.
 */
export class NodeRegistry {
  readonly nodeId: string;
  readonly #store: RegistryStore;
  readonly #opts: Required<Omit<NodeRegistryOptions, 'self'>> & Pick<NodeRegistryOptions, 'self'>;
  readonly #nodes = new Map<string, { info: NodeInfo; raw: string }>();
  readonly #listeners: { [K in keyof Events]: Set<Events[K]> } = {
    nodeJoined: new Set(),
    nodeUpdated: new Set(),
    nodeRestarted: new Set(),
    nodeLeft: new Set(),
    selfReinstated: new Set(),
    stalled: new Set(),
  };
  readonly #dropped: (reason: string, detail?: object) => void;
  readonly #startedAt = Date.now();
  #draining = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  /** Unknown until the first heartbeat. */
  #healthy: boolean | undefined;
  /**
   * No one is declared gone before this (performance.now()): one expiry window after we
   * started, the store became reachable again, or our own event loop stalled.
   */
  #judgeFrom: number;
  readonly #stalls: StallWatch;
  #beaten = false;
  /** Bumped on selfReinstated: the others can tell our return from the entry they reaped. */
  #epoch = 0;
  /** Nodes this one declared gone: nodeId → the startedAt/epoch of the entry it reaped. */
  readonly #gone = new Map<string, string>();
  #duplicateWarnedAt = 0;

  constructor(store: RegistryStore, opts: NodeRegistryOptions) {
    this.#store = store;
    this.nodeId = opts.self.nodeId;
    this.#opts = {
      ...opts,
      heartbeatMs: opts.heartbeatMs ?? 2000,
      expiryMs: opts.expiryMs ?? 6000,
    };
    this.#dropped = dropLogger(opts.log);
    this.#judgeFrom = performance.now() + this.#opts.expiryMs;
    this.#stalls = new StallWatch(stallLimitMs(this.#opts.heartbeatMs, this.#opts.expiryMs));
  }

  /** First heartbeat and scan, then one every heartbeatMs. Never throws for an unreachable store. */
  async start(): Promise<void> {
    this.#stopped = false; // Started again after a stop (tests freeze a node this way).
    await this.tick();
    this.#stalls.start();
    this.#timer = setInterval(() => {
      this.#noticeStall();
      void this.tick();
    }, this.#opts.heartbeatMs);
    this.#timer.unref();
  }

  /** Stops beating and removes this node's entry so the others see it leave at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#stalls.stop();
    await this.#ticking;
    await this.#store.remove(this.nodeId).catch(() => undefined);
  }

  setDraining(draining: boolean): void {
    this.#draining = draining;
  }

  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    this.#listeners[event].add(listener);
    return () => this.#listeners[event].delete(listener);
  }

  /** Live nodes, this one included, as of the last successful scan. */
  nodes(): NodeInfo[] {
    return [...this.#nodes.values()].map((n) => n.info);
  }

  get(nodeId: string): NodeInfo | undefined {
    return this.#nodes.get(nodeId)?.info;
  }

  /** True once a heartbeat went through, false while the store is unreachable (readiness). */
  get healthy(): boolean {
    return this.#healthy === true;
  }

  /**
   * A heartbeat + scan begun after this call (one in flight may have scanned before what the
   * caller saw), for a node the caller heard of but this one does not list: it may have
   * started since the last scan, which is not the same as gone. Nothing once stopped.
   */
  async refresh(): Promise<void> {
    await this.#ticking;
    if (!this.#stopped) await this.tick();
  }

  /** One heartbeat + scan; runs are serialized (a slow store never stacks them up). */
  tick(): Promise<void> {
    this.#ticking ??= this.#tick().finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  async #tick(): Promise<void> {
    let entries: RegistryEntry[];
    let replaced: string | null;
    try {
      replaced = await this.#store.beat(this.#selfInfo());
      entries = await this.#store.scan();
    } catch (err) {
      if (this.#healthy !== false)
        this.#opts.log.warn({ err }, 'cluster: node registry unreachable');
      this.#healthy = false;
      return;
    }
    if (this.#healthy === false) {
      this.#opts.log.info({}, 'cluster: node registry reachable again');
      this.#holdJudgement();
    }
    this.#healthy = true;
    // The scan's answer may have waited out a stall of ours (the timer had not run yet).
    this.#noticeStall();
    // Just back from an outage or a stall (or just started), the others may not have beaten yet.
    const judging = performance.now() >= this.#judgeFrom;
    if (replaced === null && this.#beaten) {
      this.#epoch++;
      await this.#runAll('selfReinstated', []);
    }
    if (replaced !== null && this.#beaten) this.#checkUnique(replaced);
    this.#beaten = true;
    const seen = new Set<string>();
    for (const entry of entries) {
      if (entry.ageMs > this.#opts.expiryMs && entry.nodeId !== this.nodeId) {
        if (judging) await this.#declareGone(entry.nodeId, true);
        continue;
      }
      const info = this.#parse(entry);
      if (!info) continue;
      const reaped = this.#gone.get(info.nodeId);
      if (reaped !== undefined) {
        // The very entry we declared gone, beating again: that node never saw its entry go
        // (the removal failed or raced its beat), so it kept its members and seats as if
        // nothing happened. Remove it again: its next beat finds it gone and reinstates.
        if (reaped === entryKey(info)) {
          await this.#store.remove(info.nodeId).catch(() => false);
          continue;
        }
        this.#gone.delete(info.nodeId);
      }
      seen.add(info.nodeId);
      const known = this.#nodes.get(info.nodeId);
      this.#nodes.set(info.nodeId, { info, raw: entry.raw });
      if (!known) this.#emit('nodeJoined', [info]);
      else if (known.info.startedAt !== info.startedAt)
        this.#emit('nodeRestarted', [info, known.info]);
      else if (known.raw !== entry.raw) this.#emit('nodeUpdated', [info]);
    }
    // Removed by another node (it reaped or stopped) since our last scan.
    for (const nodeId of [...this.#nodes.keys()]) {
      if (!seen.has(nodeId) && nodeId !== this.nodeId && judging)
        await this.#declareGone(nodeId, false);
    }
  }

  /** Nobody is declared gone for one expiry window from now: long enough for all to beat. */
  #holdJudgement(): void {
    this.#judgeFrom = Math.max(this.#judgeFrom, performance.now() + this.#opts.expiryMs);
  }

  /** After our own event loop stalled, the others' entries are judged only a window later. */
  #noticeStall(): void {
    const stalledMs = this.#stalls.check();
    if (stalledMs === 0) return;
    this.#holdJudgement();
    this.#opts.log.warn(
      { stalledMs: Math.round(stalledMs) },
      'cluster: this process stalled; no node is declared gone for one node timeout',
    );
    this.#emit('stalled', [stalledMs]);
  }

  #parse(entry: RegistryEntry): NodeInfo | undefined {
    let json: unknown;
    try {
      json = JSON.parse(entry.raw);
    } catch {
      this.#dropped('registry entry is not JSON', { nodeId: entry.nodeId });
      return undefined;
    }
    const parsed = safeParseInput(nodeInfoSchema, json);
    if (!parsed.success || parsed.data.nodeId !== entry.nodeId) {
      this.#dropped('registry entry has the wrong shape', { nodeId: entry.nodeId });
      return undefined;
    }
    return parsed.data;
  }

  async #declareGone(nodeId: string, reap: boolean): Promise<void> {
    const last = this.#nodes.get(nodeId)?.info;
    this.#nodes.delete(nodeId);
    if (last) this.#gone.set(nodeId, entryKey(last));
    const ok = await this.#runAll('nodeLeft', [nodeId, last]);
    // A failed listener (e.g. seats not released) leaves the entry for the next scan to retry.
    if (reap && ok) await this.#store.remove(nodeId).catch(() => undefined);
    if (last) this.#opts.log.info({ nodeId }, 'cluster: node left');
  }

  /** Runs async listeners one by one; false if any threw. */
  async #runAll<K extends 'nodeLeft' | 'selfReinstated'>(
    event: K,
    args: Parameters<Events[K]>,
  ): Promise<boolean> {
    let ok = true;
    for (const listener of this.#listeners[event]) {
      try {
        await (listener as (...a: Parameters<Events[K]>) => unknown)(...args);
      } catch (err) {
        ok = false;
        this.#opts.log.error({ err, event }, 'cluster: a registry listener failed');
      }
    }
    return ok;
  }

  /** Between two of our beats someone else wrote our entry: two processes share this id. */
  #checkUnique(replaced: string): void {
    let startedAt: unknown;
    try {
      startedAt = (JSON.parse(replaced) as { startedAt?: unknown }).startedAt;
    } catch {
      startedAt = undefined;
    }
    if (startedAt === this.#startedAt || Date.now() - this.#duplicateWarnedAt < 60_000) return;
    this.#duplicateWarnedAt = Date.now();
    this.#opts.log.error(
      { nodeId: this.nodeId },
      'cluster: another process uses this node id (set a unique TUTTI_CLUSTER_NODE_ID)',
    );
  }

  #emit<K extends 'nodeJoined' | 'nodeUpdated' | 'nodeRestarted' | 'stalled'>(
    event: K,
    args: Parameters<Events[K]>,
  ): void {
    for (const listener of this.#listeners[event]) {
      try {
        (listener as (...a: Parameters<Events[K]>) => void)(...args);
      } catch (err) {
        this.#opts.log.error({ err, event }, 'cluster: a registry listener failed');
      }
    }
  }

  #selfInfo(): NodeInfo {
    return {
      ...this.#opts.self,
      load: this.#opts.load(),
      draining: this.#draining,
      startedAt: this.#startedAt,
      epoch: this.#epoch,
    };
  }
}

/** Which incarnation of a node an entry is: its process and how often it was reinstated. */
const entryKey = (info: NodeInfo): string => `${info.startedAt}:${info.epoch ?? 0}`;
