import type { PeerInfo, RoomSummary } from '@tutti/protocol';
import type { HandlerTable, MemberChannel } from '../rooms/ports.ts';
import type { ResumeSessions } from './resume.ts';

/** Where a resumed member stands now (rooms/resume.ts builds it from the registry). */
export type MembershipSnapshot = (channel: MemberChannel) => {
  self: PeerInfo;
  peers: PeerInfo[];
  room: RoomSummary;
};

/** `session.resume` (take a kept membership over) and `session.ping` (liveness). */
export function sessionHandlers(
  sessions: ResumeSessions,
  snapshot: MembershipSnapshot,
): HandlerTable {
  return {
    'session.resume': (ctx, data) => {
      const { channel, token } = sessions.resume(data.token, ctx.peer);
      return { ...snapshot(channel), resumeToken: token };
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
