import type { NodeRegistry } from '../cluster/index.ts';
import type { Logger } from '../kernel/log.ts';
import type { RoomSessions } from '../webhooks/roomSessions.ts';
import type { RoomSessionStore } from './roomSessionStore.ts';
import { bounded } from './timeout.ts';

export interface RoomSessionsDeps {
  nodeId: string;
  registry: Pick<NodeRegistry, 'on'>;
  store: RoomSessionStore;
  log: Logger;
  /** Each store call gives up after this (the webhooks then decide per node). */
  timeoutMs: number;
  /**
   * A member handed over to another node that has not arrived there after this is gone
   * (the handover's own watchdog gives it 3 × the RPC timeout).
   */
  arrivalMs: number;
}

/**
 * The webhooks' room runs across the cluster (webhooks/roomSessions.ts), on the shared store:
 * a run starts with the room's first member on any node and finishes with its last. A node
 * that dies takes its members out with it: every node that sees it gone (nodeLeft) releases
 * them, one of them (the store's atomic step) finishes the runs that emptied, and tells its
 * webhooks. A node that starts releases what a crashed predecessor under its id left; one
 * that was taken for dead and is back has its webhooks join its members again.
 */
export function createRoomSessions(deps: RoomSessionsDeps): RoomSessions & {
  start(): Promise<void>;
  close(): Promise<void>;
} {
  const { nodeId, store, log } = deps;
  const finishedListeners: ((roomId: string, name: string) => void)[] = [];
  const returnedListeners: (() => void)[] = [];
  const arrivals = new Set<NodeJS.Timeout>();
  const call = <T>(work: Promise<T>) => bounded(work, deps.timeoutMs);

  const finished = (runs: { roomId: string; name: string }[], why: string) => {
    if (runs.length > 0) log.info({ rooms: runs.length, why }, 'webhooks: runs finished');
    for (const run of runs) for (const fn of finishedListeners) fn(run.roomId, run.name);
  };
  const releaseNode = async (node: string, why: string) => {
    finished(await call(store.releaseNode(node)), why);
  };
  // Thrown, it is retried on the registry's next scan.
  deps.registry.on('nodeLeft', (gone) => releaseNode(gone, `node ${gone} gone`));
  // Our entry had been reaped (frozen, cut off): the others released our members.
  deps.registry.on('selfReinstated', () => {
    for (const fn of returnedListeners) fn();
  });

  return {
    joined: (roomId, memberId, name) => call(store.join(roomId, memberId, nodeId, name)),
    arrived: (roomId, memberId) => call(store.arrive(roomId, memberId, nodeId)),
    departed(roomId, memberId) {
      // Still listed here after the handover's time: it never arrived, it is out.
      const timer = setTimeout(() => {
        arrivals.delete(timer);
        void call(store.leave(roomId, memberId, nodeId, false)).then(
          (name) => name !== null && finished([{ roomId, name }], 'never arrived'),
          (err: unknown) => log.warn({ err, roomId }, 'webhooks: a departure not settled'),
        );
      }, deps.arrivalMs);
      timer.unref();
      arrivals.add(timer);
    },
    async left(roomId, memberId, nodeEmpty) {
      return (await call(store.leave(roomId, memberId, nodeId, nodeEmpty))) ?? undefined;
    },
    onFinished(fn) {
      finishedListeners.push(fn);
    },
    onReturned(fn) {
      returnedListeners.push(fn);
    },
    async start() {
      // Before anyone joins here: members under this id are a past life's. Without Redis
      // now, on without (those runs stay open until someone leaves them).
      await store.ready();
      await releaseNode(nodeId, 'a past life of this node').catch((err: unknown) =>
        log.warn({ err }, 'webhooks: a past life’s members not released'),
      );
    },
    async close() {
      for (const timer of arrivals) clearTimeout(timer);
      arrivals.clear();
      await store.close();
    },
  };
}
