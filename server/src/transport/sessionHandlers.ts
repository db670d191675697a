import type { PeerInfo, ResumeResult, RoomSummary } from '@tutti/protocol';
import type { HandlerTable, MemberChannel } from '../rooms/ports.ts';
import { ResumeSessions } from './resume.ts';

/** Where a resumed member stands now (rooms/resume.ts builds it from the registry). */
export type MembershipSnapshot = (channel: MemberChannel) => {
  self: PeerInfo;
  peers: PeerInfo[];
  room: RoomSummary;
};

/**
 * A token this node does not hold: the node that has its member (the issuer, or the node it
 * handed the member over to) is asked to hand the membership over.
 */
export type ResumeElsewhere = (
  nodeId: string,
  token: string,
  fresh: MemberChannel,
) => Promise<ResumeResult>;

/**
 * `session.resume` (take a kept membership over), `session.confirm` (its answer arrived) and
 * `session.ping` (liveness).
 */
export function sessionHandlers(
  sessions: ResumeSessions,
  snapshot: MembershipSnapshot,
  elsewhere?: ResumeElsewhere,
): HandlerTable {
  return {
    'session.resume': (ctx, data) => {
      const issuer = ResumeSessions.issuer(data.token);
      // A token this node does not hold: another node's, or one of ours whose member we
      // handed over a moment ago (that answer may have been lost): the handover finds it.
      if (elsewhere && issuer !== undefined && !sessions.holds(data.token)) {
        return elsewhere(issuer, data.token, ctx.peer);
      }
      const { channel, token, media } = sessions.resume(data.token, ctx.peer);
      return { ...snapshot(channel), resumeToken: token, media };
    },
    'session.confirm': (ctx) => {
      sessions.confirm(ctx.peer);
      return {};
    },
    'session.ping': () => ({}),
  };
}

/** The handler tables with a resume token added to every successful `room.join` answer. */
export function withResumeTokens(
  tables: readonly HandlerTable[],
  sessions: ResumeSessions,
): HandlerTable[] {
  return tables.map((table) => {
    const join = table['room.join'];
    if (!join) return table;
    return {
      ...table,
      'room.join': async (ctx, data) => {
        const answer = await join(ctx, data);
        const resumeToken = sessions.issue(ctx.peer);
        return resumeToken === undefined ? answer : { ...answer, resumeToken };
      },
    };
  });
}
