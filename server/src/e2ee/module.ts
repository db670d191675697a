import { TuttiError, type E2eeEpochReason } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import type { Concern } from '../module/concern.ts';
import { prepareNotification, type HandlerTable } from '../rooms/ports.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { LocalEpochs, RemoteEpochs } from './remote.ts';

/**
 * Key epochs of end-to-end encrypted rooms (docs/e2ee.md). The server holds no key, only a
 * counter per room: a member leaving (or `e2ee.rotate`) moves the room to the next epoch and
 * every member hears `e2ee.epoch`; the browsers derive that epoch's keys themselves and mark
 * their frames with it. A newcomer learns the epoch in its join answer (`e2eeEpoch`).
 * The counter only grows for the room's life (it is not reset when the room empties), so an
 * epoch's keys never seal other media later. In a cluster every node follows the highest
 * epoch announced (`remote`), and the first member of a room on a node asks the others.
 */
export function createE2eeModule(opts: {
  rooms: RoomRegistry;
  log: Logger;
  remote?: () => RemoteEpochs | undefined;
}): Concern & LocalEpochs {
  const { rooms } = opts;
  const epochs = new Map<string, number>();
  /** Rooms whose epoch this node asked the others for (or moved itself). */
  const known = new Set<string>();
  const encrypted = (roomId: string): boolean => rooms.get(roomId)?.record.e2ee === true;
  const epochOf = (roomId: string): number => epochs.get(roomId) ?? 0;

  const tell = (roomId: string, epoch: number, reason: E2eeEpochReason): void => {
    const prepared = prepareNotification('e2ee.epoch', { epoch, reason });
    for (const member of rooms.members(roomId)) void member.notifyPrepared(prepared);
  };
  const advance = (roomId: string, reason: E2eeEpochReason): number => {
    const epoch = epochOf(roomId) + 1;
    epochs.set(roomId, epoch);
    tell(roomId, epoch, reason);
    opts.remote?.()?.announce(roomId, epoch, reason);
    return epoch;
  };
  const adopt = (roomId: string, epoch: number, reason: E2eeEpochReason): void => {
    known.add(roomId);
    if (epoch <= epochOf(roomId)) return;
    epochs.set(roomId, epoch);
    tell(roomId, epoch, reason);
  };
  /** The room's epoch, after asking the other nodes once (bounded by the RPC timeout). */
  const current = async (roomId: string): Promise<number> => {
    const remote = opts.remote?.();
    if (remote && !known.has(roomId)) {
      try {
        adopt(roomId, await remote.highest(roomId), 'rotate');
      } catch (err) {
        opts.log.warn({ err, roomId }, 'e2ee: epoch not learned from the other nodes');
      }
    }
    return epochOf(roomId);
  };

  const handlers: HandlerTable = {
    'e2ee.rotate': ({ peer }) => {
      const { roomId } = rooms.requireMembership(peer.id);
      if (!encrypted(roomId)) {
        throw new TuttiError('INVALID_REQUEST', 'this room is not end-to-end encrypted');
      }
      return { epoch: advance(roomId, 'rotate') };
    },
  };

  return {
    epochOf,
    adopt,
    handlers,
    rooms: {
      joinAnswer: async (roomId) => (encrypted(roomId) ? { e2eeEpoch: await current(roomId) } : {}),
      // Whoever left must not read what is sent from now on: new keys for everyone else
      // (here or on other nodes).
      memberLeft: (roomId) => {
        const room = rooms.get(roomId);
        if (room && encrypted(roomId) && rooms.summaryOf(room).peers > 0) advance(roomId, 'left');
      },
      roomDeleted: (roomId) => {
        epochs.delete(roomId);
        known.delete(roomId);
      },
    },
  };
}
