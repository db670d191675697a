import { z } from 'zod';
import {
  TuttiError,
  type NotificationMap,
  type NotificationMethod,
  type ResumeResult,
} from '@tutti/protocol';
import type { Logger } from '../kernel/log.ts';
import type { MemberChannel, PreparedNotification } from '../rooms/ports.ts';
import { membershipSnapshot } from '../rooms/resume.ts';
import type { Room } from '../rooms/Room.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import { hashToken, type ResumeSessions } from '../transport/resume.ts';
import type { handoverMethods } from './handoverMethods.ts';
import type { MemberMoves } from './memberMoves.ts';
import type { ClusterNode } from './node.ts';
import { safeParseInput } from '@tutti/protocol/schemas';

/** What a member carries to its new node besides its membership. */
export interface CarriedState {
  /** Moderation: a moderator holds its mic. */
  micHeld: boolean;
  /** Admin: the join token identity it came with (the webhooks report it). */
  identity?: string | undefined;
  /** Chat: what it had there (chat/catchUp.ts); the new node sends it what it missed. */
  chat?: { after: number; seen: string[] } | undefined;
}

/** One concern's part of it: taken out on the old node, put in on the new one. */
export interface Carrier {
  out(room: Room, memberId: string): Partial<CarriedState>;
  /** In the tick the member was seated. */
  in?(room: Room, memberId: string, state: CarriedState): void;
}

type HandoverAnswer = z.output<(typeof handoverMethods)['session.handover']['response']>;
type HandedOver = Exclude<HandoverAnswer, { movedTo: string }>;

export interface HandoverDeps {
  cluster: Pick<ClusterNode, 'nodeId' | 'rpc' | 'registry'>;
  moves: MemberMoves;
  rooms: RoomRegistry;
  sessions: ResumeSessions;
  log: Logger;
  /** The handover request's timeout (cluster.rpcTimeoutMs). */
  timeoutMs: number;
  /** The member's state concerns keep per node: taken out on the old node, put in here. */
  carry?: readonly Carrier[];
  /** Connection `from` carries member `to` from now on (its identities follow), before seating. */
  carried?(from: string, to: string, state: CarriedState): void;
}

/** Kept notifications handed over at most (an RPC message is at most 1 MiB). */
const MAX_KEPT_BYTES = 768 * 1024;
const GONE = 'the membership is gone (expired, left or resumed elsewhere); join again';
const frameSchema = z.object({
  notification: z.literal(true),
  method: z.string().min(1).max(64),
  data: z.record(z.string(), z.unknown()),
});

/**
 * Membership resume across the nodes of a cluster (docs/reconnect.md). A resume token names
 * the node that issued it; a socket that presents it to another node makes that node ask the
 * issuer (`session.handover`) for the membership. The issuer spends the token and lets the
 * member go without a leave (its media closes there); the new node moves its cluster seat and
 * nickname, seats it under the same id without a join, replays what was kept for it and
 * answers `media: 'rebuild'`. If the issuer is gone or says no: RESUME_FAILED, and the client
 * joins afresh as before. If the move fails half-way, the member leaves for everyone.
 */
export function createHandover(deps: HandoverDeps): {
  resumeFrom(nodeId: string, token: string, fresh: MemberChannel): Promise<ResumeResult>;
  close(): void;
} {
  const { cluster, moves, rooms, sessions, log } = deps;
  const watchdogs = new Set<NodeJS.Timeout>();
  /** Sockets with a resume in flight (one at a time per socket). */
  const resuming = new Set<string>();
  /**
   * Token hash → the node we handed its member over to, while that resume's answer may have
   * been lost (the new node keeps the token good for as long): a retry through a third node
   * is sent there.
   */
  const passedOn = new Map<string, { node: string; until: number }>();

  // ── The issuing node ────────────────────────────────────────────────────────────────
  cluster.rpc.handle('session.handover', ({ tokenHash }, { from }) => {
    const now = Date.now();
    const movedTo = passedOnTo(tokenHash);
    if (movedTo !== undefined && movedTo !== from) return { movedTo };
    // All of it in this tick: no grace expiry, second resume or leave can come in between.
    const channel = sessions.handOver(tokenHash);
    const { room, member } = rooms.requireMember(channel);
    const kept = channel.takeKept().filter((f) => !f.method.startsWith('media.'));
    if (kept.reduce((n, f) => n + f.text.length, 0) > MAX_KEPT_BYTES) {
      channel.finish(); // Missed too much: it leaves, as at the end of its grace.
      throw new TuttiError('RESUME_FAILED', 'too much was missed; join again');
    }
    const peer = { ...member.info };
    const state: CarriedState = { micHeld: false };
    for (const carrier of deps.carry ?? []) Object.assign(state, carrier.out(room, member.id));
    // Listed as the new node's member first: nothing here ever sees it gone (room life).
    moves.handedOver(room.id, peer, from);
    room.handOff(member.id);
    channel.finish(); // In no room now: only a half-open socket closes.
    watch(room.id, peer, from);
    passedOn.set(tokenHash, { node: from, until: now + sessions.unconfirmedMs });
    log.info({ peerId: peer.id, roomId: room.id, to: from }, 'member handed over');
    return { roomId: room.id, peer, kept: kept.map((f) => f.text), ...state };
  });

  /** The node we handed the member of this token over to, while it may still hold it. */
  function passedOnTo(tokenHash: string): string | undefined {
    const now = Date.now();
    for (const [hash, gone] of passedOn) if (gone.until <= now) passedOn.delete(hash);
    return passedOn.get(tokenHash)?.node;
  }

  /** If the new node never took the seat over, the member left after all. */
  const watch = (roomId: string, peer: ResumeResult['self'], to: string) => {
    const timer = setTimeout(() => {
      watchdogs.delete(timer);
      void moves.seatOf(roomId, peer.id).then(
        (at) => {
          if (at !== cluster.nodeId) return;
          log.warn({ peerId: peer.id, roomId, to }, 'handed-over member never arrived: it left');
          moves.movedAway(roomId, peer, [cluster.nodeId, to]);
        },
        () => undefined,
      );
    }, 3 * deps.timeoutMs);
    timer.unref();
    watchdogs.add(timer);
  };

  // ── The node the member resumes through ─────────────────────────────────────────────
  async function resumeFrom(
    issuer: string,
    token: string,
    fresh: MemberChannel,
  ): Promise<ResumeResult> {
    if (rooms.membership(fresh.id)) {
      throw new TuttiError('ALREADY_JOINED', 'this connection is in a room already');
    }
    if (resuming.has(fresh.id)) throw new TuttiError('RESUME_FAILED', 'a resume is under way');
    // One of our own tokens that we no longer hold: its member went to another node a moment
    // ago (that answer may have been lost), or it is gone.
    let from = issuer === cluster.nodeId ? passedOnTo(hashToken(token)) : issuer;
    if (from === undefined) throw new TuttiError('RESUME_FAILED', GONE);
    if (!cluster.registry.get(from)) {
      throw new TuttiError('RESUME_FAILED', 'the server that held your membership is gone');
    }
    resuming.add(fresh.id);
    try {
      let answer = await askHandover(from, token);
      if ('movedTo' in answer) {
        // The issuer handed it to another node whose answer was lost: that node has it (once).
        from = answer.movedTo;
        const there = from !== cluster.nodeId && cluster.registry.get(from);
        answer = there ? await askHandover(from, token) : answer;
        if ('movedTo' in answer) throw new TuttiError('RESUME_FAILED', GONE);
      }
      // From here on the member is ours: seated here, or gone for everyone.
      const handed = answer;
      try {
        return await seat(from, handed, fresh, token);
      } catch (err) {
        log.warn({ err, peerId: handed.peer.id }, 'resume: handed-over member not seated');
        moves.movedAway(handed.roomId, handed.peer, [from, cluster.nodeId]);
        throw new TuttiError('RESUME_FAILED', GONE);
      }
    } finally {
      resuming.delete(fresh.id);
    }
  }

  function askHandover(nodeId: string, token: string): Promise<HandoverAnswer> {
    return cluster.rpc
      .request(
        nodeId,
        'session.handover',
        { tokenHash: hashToken(token) },
        { timeoutMs: deps.timeoutMs },
      )
      .catch((err: unknown) => {
        log.info({ err, nodeId }, 'resume: no handover from the node that held it');
        throw new TuttiError('RESUME_FAILED', GONE);
      });
  }

  async function seat(
    nodeId: string,
    answer: HandedOver,
    fresh: MemberChannel,
    token: string,
  ): Promise<ResumeResult> {
    const { peer } = answer;
    const state: CarriedState = {
      micHeld: answer.micHeld,
      identity: answer.identity,
      chat: answer.chat,
    };
    const room = await rooms.find(answer.roomId);
    const done = room.beginJoin(); // Keeps the room's routers while it is empty here.
    try {
      await room.media.routerFor(peer.id);
      await moves.arriving(room, peer, nodeId);
      if (fresh.closed) throw new Error('connection closed');
      // Before the seat: the concerns that see it arrive (webhooks) know who it is.
      deps.carried?.(fresh.id, peer.id, state);
      const kept = answer.kept.flatMap(parseFrame);
      const carried = sessions.carry(
        peer.id,
        fresh,
        (ch) => {
          room.seat(ch, peer);
          for (const carrier of deps.carry ?? []) carrier.in?.(room, peer.id, state);
        },
        kept,
        hashToken(token), // If this answer is lost, the client's retry lands here again.
      );
      const snapshot = membershipSnapshot(rooms, carried.channel);
      return { ...snapshot, resumeToken: carried.token, media: 'rebuild' };
    } finally {
      done();
    }
  }

  function parseFrame(text: string): PreparedNotification[] {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return [];
    }
    const frame = safeParseInput(frameSchema, json);
    if (!frame.success) return [];
    // A frame this cluster's own node serialized for the member: replayed as it is.
    const method = frame.data.method as NotificationMethod;
    return [{ method, data: frame.data.data as NotificationMap[NotificationMethod], text }];
  }

  return {
    resumeFrom,
    close() {
      for (const timer of watchdogs) clearTimeout(timer);
      watchdogs.clear();
    },
  };
}
