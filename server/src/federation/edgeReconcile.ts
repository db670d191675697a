import type { z } from 'zod';
import type { Logger } from '../kernel/log.ts';
import { listed, type OriginView } from './announcementOrder.ts';
import type { MediaEdge } from './mediaEdge.ts';
import {
  REWATCH_MAX_ROOMS,
  type MediaMethods,
  type RemoteProducerInfo,
  type Stamp,
} from './mediaMethods.ts';
import type { MediaRpc } from './pipeEnds.ts';

export interface EdgeReconcilerDeps {
  rpc: MediaRpc;
  edge: MediaEdge;
  /** cluster.mediaReconcileMs: each origin is asked about once per period. */
  periodMs: number;
  log: Logger;
}

/** What a reconcile found different: each one an announcement lost (or still on its way). */
export interface Missed {
  opened: number;
  closed: number;
  paused: number;
}

type RewatchAnswer = z.output<MediaMethods['media.rewatch']['response']>;

/**
 * Applies an origin's list of a room's producers to what the edge holds, as the missed
 * announcements would have been: a listed producer not held is piped in, a held one not
 * listed is closed (its consumers close, their members are told), a pause state that differs
 * is set. Each goes through the announcement handlers with the list's stamp, so whatever was
 * heard after the list was made is left as it is.
 */
export function reconcileRoom(
  edge: MediaEdge,
  roomId: string,
  origin: string,
  producers: readonly RemoteProducerInfo[],
  stamp: Stamp,
): Missed {
  const heard = listed(stamp);
  const held = edge.held(roomId, origin);
  const missed: Missed = { opened: 0, closed: 0, paused: 0 };
  for (const info of producers) {
    const had = held.get(info.producerId);
    held.delete(info.producerId);
    if (!had) {
      if (edge.opened(roomId, origin, info, heard)) missed.opened++;
    } else if (!had.closed && had.paused !== undefined && had.paused !== info.paused) {
      if (edge.setPaused(roomId, origin, info.producerId, info.paused, heard)) missed.paused++;
    }
  }
  for (const [producerId, had] of held)
    if (!had.closed && edge.closed(roomId, origin, producerId, heard)) missed.closed++;
  return missed;
}

/**
 * The edge's repair of lost announcements (a bus message dropped, Redis or a node away for a
 * moment). Every period, with ±25 % jitter so that nodes do not ask in step, one
 * `media.rewatch` per origin node for all the rooms watched there (in chunks of
 * REWATCH_MAX_ROOMS), not one per room: the cost grows with the nodes, not the rooms. The
 * origin adds back a watcher it had dropped and lists each room's producers; the edge applies
 * the difference (reconcileRoom) and warns when there was one. One request in flight per
 * origin: a slow origin is not asked again meanwhile; a failed one is asked next period.
 */
export class EdgeReconciler {
  readonly #deps: EdgeReconcilerDeps;
  readonly #busy = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #reconciled = 0;
  #repaired = 0;

  constructor(deps: EdgeReconcilerDeps) {
    this.#deps = deps;
  }

  /** Room lists applied so far (tests, inspection). */
  get reconciled(): number {
    return this.#reconciled;
  }

  /** Differences found and repaired so far (tests, inspection). */
  get repaired(): number {
    return this.#repaired;
  }

  start(): void {
    if (this.#closed || this.#timer) return;
    const ms = this.#deps.periodMs * (0.75 + Math.random() * 0.5);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#round();
      this.start();
    }, ms);
    this.#timer.unref();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #round(): void {
    for (const [origin, rooms] of this.#deps.edge.watched())
      if (!this.#busy.has(origin)) void this.#ask(origin, rooms);
  }

  async #ask(origin: string, rooms: ReadonlyMap<string, OriginView>): Promise<void> {
    this.#busy.add(origin);
    try {
      const ids = [...rooms.keys()];
      for (let i = 0; i < ids.length && !this.#closed; i += REWATCH_MAX_ROOMS) {
        const roomIds = ids.slice(i, i + REWATCH_MAX_ROOMS);
        const answer = await this.#deps.rpc.request(origin, 'media.rewatch', { roomIds });
        this.#apply(origin, rooms, answer);
      }
    } catch (err) {
      // Asked again next period; an origin gone is the registry's to notice.
      this.#deps.log.debug({ err, origin }, 'media: could not reconcile with a node');
    } finally {
      this.#busy.delete(origin);
    }
  }

  #apply(origin: string, rooms: ReadonlyMap<string, OriginView>, answer: RewatchAnswer): void {
    const { edge, log } = this.#deps;
    for (const { roomId, producers } of answer.rooms) {
      const view = rooms.get(roomId);
      // Not asked about, or watched anew since (the room left and joined again, the pipe went):
      // that watch's answer counts.
      if (this.#closed || !view?.answered || edge.view(roomId, origin) !== view) continue;
      const missed = reconcileRoom(edge, roomId, origin, producers, answer.stamp);
      view.prune(answer.stamp);
      this.#reconciled++;
      const n = missed.opened + missed.closed + missed.paused;
      if (n === 0) continue;
      this.#repaired += n;
      log.warn(
        { roomId, origin, ...missed },
        'media: what this node held of another node’s producers differed (announcements lost); repaired',
      );
    }
  }
}
