import type { Config } from '@tutti/config';
import { TuttiError, type CaptionsState } from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import type { Concern } from '../module/concern.ts';
import { prepareNotification, type HandlerTable, type MemberChannel } from '../rooms/ports.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { engineFromConfig } from './engines.ts';
import { assertNotE2ee, e2eeRefusal } from '../rooms/e2ee.ts';
import { mayManageCaptions } from './policy.ts';
import type { CaptionsService, RemoteCaptions } from './remote.ts';
import { RoomCaptions } from './roomCaptions.ts';
import { StreamSlots } from './slots.ts';
import type { TranscriberEngine } from './transcriber.ts';

export interface CaptionsModuleOptions {
  config: Config;
  rooms: RoomRegistry;
  log: Logger;
  /** Another recognizer (tests); default from config.captions.engine. */
  engine?: TranscriberEngine;
  /** Posts a chat message as `peer` (the chat service): where `captions.save` goes. */
  postChat(peer: MemberChannel, text: string): Promise<unknown>;
  /** The other nodes of a cluster (federation/captionsRelay.ts); lazily, it is wired later. */
  remote?: () => RemoteCaptions | undefined;
}

const OFF: CaptionsState = {
  enabled: false,
  enabledBy: null,
  engine: null,
  language: null,
  gaps: [],
};

/**
 * Live captions (issue 14): `captions.set` by the room's owner turns them on; each open mic
 * is then transcribed on this node (stream.ts) and `captions.line` goes to the members.
 * Turned off, a room emptied or deleted, and the module closed: every stream and its
 * processes stop. In a cluster each node transcribes the mics produced on it; turning
 * captions on or off, and every line, reach the room's members on the other nodes too.
 */
export function createCaptionsModule(
  opts: CaptionsModuleOptions,
): Concern & { service: CaptionsService } {
  const { rooms, config } = opts;
  const settings = config.captions;
  const log = opts.log.child({ module: 'captions' });
  const engine = opts.engine ?? engineFromConfig(settings);
  const slots = new StreamSlots(settings.maxStreams);
  const byRoom = new Map<string, RoomCaptions>();
  /** Rooms with captions on on other nodes and none of their members here (yet, or any more). */
  const onElsewhere = new Map<string, string>();
  /** Rooms whose captions state this node knows (heard, set or asked) since it first hosted them. */
  const known = new Set<string>();

  const broadcast = (roomId: string, prepared: ReturnType<typeof prepareNotification>) => {
    for (const member of rooms.members(roomId)) void member.notifyPrepared(prepared);
  };
  const captionsOf = (room: Room): RoomCaptions => {
    let captions = byRoom.get(room.id);
    if (!captions) {
      captions = new RoomCaptions(room, {
        engine,
        slots,
        ffmpeg: settings.ffmpegPath,
        listenIp: settings.listenIp,
        maxRestarts: settings.maxRestarts,
        log: log.child({ roomId: room.id }),
        nicknameOf: (peerId) => rooms.member(room.id, peerId)?.nickname ?? peerId,
        broadcastState: (state) =>
          broadcast(room.id, prepareNotification('captions.state', { captions: state })),
        broadcastLine: (line) => {
          broadcast(room.id, prepareNotification('captions.line', line));
          opts.remote?.()?.line(room.id, line);
        },
      });
      byRoom.set(room.id, captions);
    }
    return captions;
  };
  const stateOf = (roomId: string) => byRoom.get(roomId)?.state() ?? OFF;
  const forget = async (roomId: string) => {
    const captions = byRoom.get(roomId);
    byRoom.delete(roomId);
    await captions?.disable();
  };

  const handlers: HandlerTable = {
    'captions.set': async ({ peer }, data) => {
      const room = rooms.require(rooms.requireMembership(peer.id).roomId);
      if (!mayManageCaptions(room, peer.id, data.ownerSecret)) {
        throw new TuttiError(
          'FORBIDDEN',
          'only the room owner or a moderator can turn captions on or off',
        );
      }
      onElsewhere.delete(room.id);
      known.add(room.id);
      if (!data.enabled) {
        await byRoom.get(room.id)?.disable(); // its transcript stays until the room empties
        opts.remote?.()?.switched(room.id, false, null);
        return { captions: stateOf(room.id) };
      }
      assertNotE2ee(room.record, 'Captions'); // The server must not hear an E2EE room.
      if (!settings.enabled)
        throw new TuttiError('MEDIA_UNAVAILABLE', 'captions are off on this server');
      const why = engine.unavailable();
      if (why) {
        log.warn({ engine: engine.name, why }, 'captions engine unavailable');
        throw new TuttiError('MEDIA_UNAVAILABLE', `captions are unavailable: ${why}`);
      }
      const captions = captionsOf(room);
      captions.enable(peer.id);
      opts.remote?.()?.switched(room.id, true, peer.id);
      return { captions: captions.state() };
    },
    'captions.state': ({ peer }) => ({
      captions: stateOf(rooms.requireMembership(peer.id).roomId),
    }),
    'captions.save': async ({ peer }, data) => {
      const room = rooms.require(rooms.requireMembership(peer.id).roomId);
      if (!mayManageCaptions(room, peer.id, data.ownerSecret)) {
        throw new TuttiError('FORBIDDEN', 'only the room owner can save the transcript');
      }
      const message = byRoom.get(room.id)?.transcript.message(config.chat.maxLength);
      if (!message) return { lines: 0 };
      await opts.postChat(peer, message.text);
      return { lines: message.lines };
    },
  };

  const service: CaptionsService = {
    lineElsewhere(roomId, line) {
      const room = rooms.get(roomId);
      if (!room) return;
      broadcast(roomId, prepareNotification('captions.line', line));
      if (line.final) {
        const nickname = rooms.member(roomId, line.peerId)?.nickname ?? line.peerId;
        captionsOf(room).transcript.add({ nickname, text: line.text });
      }
    },
    async switchedElsewhere(roomId, enabled, by) {
      onElsewhere.delete(roomId);
      const room = rooms.get(roomId);
      if (room) known.add(roomId); // Newer than any catch-up still in flight.
      if (!enabled || !room) return byRoom.get(roomId)?.disable();
      if (room.size === 0) return void onElsewhere.set(roomId, by ?? ''); // Followed on a join.
      follow(room, by);
    },
    stateHere(roomId) {
      const on = byRoom.get(roomId)?.state();
      if (on?.enabled) return { enabled: true, by: on.enabledBy };
      const by = onElsewhere.get(roomId);
      return by === undefined ? { enabled: false, by: null } : { enabled: true, by: by || null };
    },
  };
  /**
   * The room's first member here: captions may have been turned on before this node started
   * or hosted the room (it heard no switch). The other nodes are asked, once, bounded.
   */
  const catchUp = async (room: Room): Promise<void> => {
    const remote = opts.remote?.();
    if (known.has(room.id)) return;
    if (!remote || byRoom.get(room.id)?.state().enabled || onElsewhere.has(room.id)) {
      return void known.add(room.id);
    }
    if (rooms.summaryOf(room).peers <= room.size) return void known.add(room.id); // Alone.
    const on = await remote.catchUp(room.id);
    if (known.has(room.id)) return; // A switch arrived meanwhile: it is newer.
    known.add(room.id);
    if (on.enabled) onElsewhere.set(room.id, on.by ?? '');
  };
  /** This node transcribes its own speakers if it can; else they are captionless here. */
  const follow = (room: Room, by: string | null): void => {
    const why =
      e2eeRefusal(room.record, 'Captions') ??
      (settings.enabled ? engine.unavailable() : 'captions are off on this node');
    if (why) return log.warn({ roomId: room.id, why }, 'captions not followed');
    captionsOf(room).enable(by || 'another node');
  };

  /** A member came in (a join, or a resume from another node). */
  const arrived = (roomId: string) => {
    const by = onElsewhere.get(roomId);
    const room = rooms.get(roomId);
    onElsewhere.delete(roomId);
    if (by !== undefined && room) follow(room, by); // On elsewhere: on here again.
  };
  /** A member went (a leave, or a resume on another node). */
  const went = (roomId: string, roomEmpty: boolean) => {
    // A leaver's mic closed with its transports: its stream stopped on that.
    if (!roomEmpty) return;
    known.delete(roomId); // Switches may be missed from now on: ask again on a rejoin.
    const on = byRoom.get(roomId)?.state();
    const room = rooms.get(roomId);
    // The room goes on on other nodes: its captions stay on there, and here on a rejoin.
    if (on?.enabled && room && rooms.summaryOf(room).peers > 0)
      onElsewhere.set(roomId, on.enabledBy ?? '');
    void forget(roomId);
  };

  return {
    handlers,
    service,
    rooms: {
      async joinAnswer(roomId) {
        const here = rooms.get(roomId);
        if (here) await catchUp(here);
        arrived(roomId);
        return { captions: stateOf(roomId) };
      },
      memberArrived: (roomId) => arrived(roomId),
      memberLeft: (roomId, _memberId, roomEmpty) => went(roomId, roomEmpty),
      memberDeparted: (roomId, _memberId, roomEmpty) => went(roomId, roomEmpty),
      roomDeleted(roomId) {
        onElsewhere.delete(roomId);
        known.delete(roomId);
        return forget(roomId);
      },
    },
    async close() {
      await Promise.all([...byRoom.keys()].map(forget));
    },
  };
}
