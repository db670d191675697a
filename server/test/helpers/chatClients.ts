import { connectSignaling, type SignalingClient } from '../../../test/helpers/signalingClient.ts';
import type { TestServer } from '../../../test/helpers/startServer.ts';
import type { ChatMessage, JoinResult } from '@tutti/protocol';

export interface Member {
  client: SignalingClient;
  join: JoinResult;
  id: string;
}

/** Creates a room over protoo; returns its id and owner secret. */
export async function createRoom(
  server: TestServer,
  name: string,
): Promise<{ roomId: string; ownerSecret: string }> {
  const c = await connectSignaling(server.wsUrl);
  try {
    const { room, ownerSecret } = await c.request('room.create', { name });
    return { roomId: room.id, ownerSecret };
  } finally {
    c.close();
  }
}

export async function joinRoom(
  server: TestServer,
  roomId: string,
  nickname: string,
): Promise<Member> {
  const client = await connectSignaling(server.wsUrl);
  const join = await client.request('room.join', { roomId, nickname });
  return { client, join, id: join.self.id };
}

/** Chat messages this client received live, in arrival order. */
export function received(client: SignalingClient): ChatMessage[] {
  return client.notifications
    .filter((n) => n.method === 'chat.message')
    .map((n) => (n.data as { message: ChatMessage }).message);
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function until(
  predicate: () => boolean,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Deletes a room the way an owner outside it would (HTTP), waiting for the 204. */
export async function deleteRoom(
  server: TestServer,
  roomId: string,
  ownerSecret: string,
): Promise<void> {
  const res = await fetch(`${server.url}/api/rooms/${roomId}`, {
    method: 'DELETE',
    headers: { 'x-owner-secret': ownerSecret },
  });
  if (res.status !== 204) throw new Error(`room delete: HTTP ${res.status} ${await res.text()}`);
}
