import assert from 'node:assert/strict';
import type { JoinResult, PeerInfo } from '@tutti/protocol';
import { MembershipResume, type ResumeStep } from '../../../client/src/lib/session/reconnect.ts';
import { Signaling } from '../../../client/src/lib/signaling.ts';
import type { ProxyTarget, TcpProxy } from './tcpProxy.ts';

/** The browser client's resume side: its Signaling, what it synced and the steps it took. */
export interface ResumingClient {
  signaling: Signaling;
  /** Our own member as each resume (or join) synced it, in order. */
  synced: PeerInfo[];
  /** The step each re-open's resume took, in order. */
  steps: ResumeStep[];
  resume: MembershipResume;
}

/**
 * The browser client (client/src/lib/session/reconnect.ts over its real Signaling and
 * protoo-client) wired as RoomSession wires it: dropped on 'disconnected', a try on every
 * re-open.
 */
export function resumingClient(url: string): ResumingClient {
  const signaling = new Signaling(url);
  const synced: PeerInfo[] = [];
  const resume = new MembershipResume(signaling, { sync: (_room, self) => synced.push(self) });
  const steps: ResumeStep[] = [];
  signaling.onState((state, reconnect) => {
    if (state === 'disconnected') resume.dropped();
    if (state === 'open' && reconnect) void resume.onOpen().then((s) => steps.push(s));
  });
  return { signaling, synced, steps, resume };
}

/** Where a TcpProxy connects to reach a node (its HTTP address). */
export const proxyTargetOf = (node: { url: string }): ProxyTarget => ({
  host: new URL(node.url).hostname,
  port: Number(new URL(node.url).port),
});

/**
 * A resuming client behind `proxy` (listening on `proxyHost`), which sends it to `node`,
 * joined to the room as `nickname`; the join's answer carries a resume token (given to the
 * client's resume by the test: `c.resume.issued(...)`). Its Signaling is added to `open` at
 * once, for the test's `after` to close.
 */
export async function joinBehindProxy(
  proxy: TcpProxy,
  proxyHost: string,
  to: { node: { url: string }; roomId: string; nickname: string },
  open: Signaling[],
): Promise<{ c: ResumingClient; member: JoinResult & { resumeToken: string } }> {
  const { node, roomId, nickname } = to;
  proxy.target = proxyTargetOf(node);
  const c = resumingClient(`ws://${proxyHost}:${proxy.port}/ws`);
  open.push(c.signaling);
  const member = await c.signaling.request('room.join', { roomId, nickname });
  assert.ok(member.resumeToken);
  return { c, member: { ...member, resumeToken: member.resumeToken } };
}
