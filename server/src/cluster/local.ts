import type { RegistryEntry, RegistryStore } from './NodeRegistry.ts';
import type { NodeInfo } from './schemas.ts';
import type { RoomPlacement, RoomSpread, SeatResult } from './Placement.ts';
import type { RpcTransport } from './Rpc.ts';

/**
 * The single-node cluster: registry, message bus and placement in this process's memory.
 * Messages still travel as strings, so they are parsed and validated exactly as from Redis;
 * tests put several "nodes" on one hub.
 */
export class LocalClusterHub {
  readonly #entries = new Map<string, { raw: string; seenAt: number }>();
  readonly #listeners = new Map<string, Set<(raw: string) => void>>();
  /** roomId → memberId → nodeId */
  readonly #seats = new Map<string, Map<string, string>>();
  readonly #first = new Map<string, string>();

  registryStore(): RegistryStore {
    return {
      beat: async (info: NodeInfo) => {
        const replaced = this.#entries.get(info.nodeId)?.raw ?? null;
        this.#entries.set(info.nodeId, { raw: JSON.stringify(info), seenAt: Date.now() });
        return replaced;
      },
      scan: async (): Promise<RegistryEntry[]> => {
        const now = Date.now();
        return [...this.#entries].map(([nodeId, e]) => ({
          nodeId,
          raw: e.raw,
          ageMs: now - e.seenAt,
        }));
      },
      remove: async (nodeId: string) => this.#entries.delete(nodeId),
    };
  }

  /** Writes a raw registry entry (tests: forged or stale entries). */
  putEntry(nodeId: string, raw: string, ageMs = 0): void {
    this.#entries.set(nodeId, { raw, seenAt: Date.now() - ageMs });
  }

  transport(): RpcTransport {
    const mine: { nodeId: string; fn: (raw: string) => void }[] = [];
    return {
      send: async (nodeId, raw) => this.inject(nodeId, raw),
      listen: async (nodeId, fn) => {
        const set = this.#listeners.get(nodeId) ?? new Set();
        this.#listeners.set(nodeId, set.add(fn));
        mine.push({ nodeId, fn });
      },
      close: async () => {
        for (const { nodeId, fn } of mine.splice(0)) this.#listeners.get(nodeId)?.delete(fn);
      },
    };
  }

  /** Delivers a raw message to a node on the next tick, as a bus would; returns receivers. */
  inject(nodeId: string, raw: string): number {
    const set = this.#listeners.get(nodeId);
    for (const fn of set ?? []) setImmediate(() => fn(raw));
    return set?.size ?? 0;
  }

  placement(): RoomPlacement {
    return {
      reserve: async (roomId, memberId, nodeId, capacity) =>
        this.#reserve(roomId, memberId, nodeId, capacity),
      seatOf: async (roomId, memberId) => this.#seats.get(roomId)?.get(memberId) ?? null,
      release: async (roomId, memberId) => this.#release(roomId, memberId),
      releaseNode: async (nodeId) => {
        let released = 0;
        for (const [roomId, seats] of [...this.#seats]) {
          for (const [memberId, at] of [...seats]) {
            if (at === nodeId && this.#release(roomId, memberId)) released++;
          }
        }
        return released;
      },
      spread: async (roomId) => this.#spread(roomId),
      rooms: async () => [...this.#seats].map(([roomId, seats]) => ({ roomId, count: seats.size })),
    };
  }

  #reserve(roomId: string, memberId: string, nodeId: string, capacity: number): SeatResult {
    const seats = this.#seats.get(roomId) ?? new Map<string, string>();
    if (!seats.has(memberId) && seats.size >= capacity) return { ok: false, count: seats.size };
    seats.set(memberId, nodeId);
    this.#seats.set(roomId, seats);
    if (!this.#first.has(roomId)) this.#first.set(roomId, nodeId);
    this.#handOnFirst(roomId, seats);
    return { ok: true, count: seats.size };
  }

  #release(roomId: string, memberId: string): boolean {
    const seats = this.#seats.get(roomId);
    if (!seats?.delete(memberId)) return false;
    if (seats.size === 0) {
      this.#seats.delete(roomId);
      this.#first.delete(roomId);
    } else this.#handOnFirst(roomId, seats);
    return true;
  }

  /** The first node keeps the title while it hosts members; then any hosting node takes it. */
  #handOnFirst(roomId: string, seats: Map<string, string>): void {
    const first = this.#first.get(roomId);
    const hosts = new Set(seats.values());
    if (first && !hosts.has(first)) this.#first.set(roomId, [...hosts][0]!);
  }

  #spread(roomId: string): RoomSpread {
    const seats = this.#seats.get(roomId);
    const nodes: Record<string, number> = {};
    for (const nodeId of seats?.values() ?? []) nodes[nodeId] = (nodes[nodeId] ?? 0) + 1;
    return { count: seats?.size ?? 0, nodes, firstNode: this.#first.get(roomId) ?? null };
  }
}
