import type { JoinResult, RequestData } from '@tutti/protocol';
import { connectSignaling, type SignalingClient } from './signalingClient.ts';

/** Anything with a signaling address: a test server, a node in process, a node process. */
export interface SignalingNode {
  wsUrl: string;
}

export interface JoinedMember {
  client: SignalingClient;
  answer: JoinResult;
  id: string;
}

type JoinExtras = Omit<RequestData<'room.join'>, 'roomId' | 'nickname'>;
type CreateExtras = Omit<RequestData<'room.create'>, 'name'>;

/** Sockets a test opens through it, closed together by `closeAll()` (in an `after`). */
export interface SignalingMembers {
  /** `address`: sent as `x-forwarded-for` (the nodes of such tests trust loopback proxies). */
  connect(node: SignalingNode, address?: string): Promise<SignalingClient>;
  /** A socket of its own, joined with `data`. */
  joinWith(
    node: SignalingNode,
    data: RequestData<'room.join'>,
    address?: string,
  ): Promise<JoinedMember>;
  /** A socket of its own, joined to the room as `nickname`. */
  join(
    node: SignalingNode,
    roomId: string,
    nickname: string,
    extras?: JoinExtras,
    address?: string,
  ): Promise<JoinedMember>;
  /** Creates a room on a socket closed right after. */
  createRoom(
    node: SignalingNode,
    name: string,
    extras?: CreateExtras,
    address?: string,
  ): Promise<{ roomId: string; ownerSecret: string }>;
  /** Adds a socket opened elsewhere (a bot's) to those `closeAll()` closes. */
  track(client: SignalingClient): void;
  closeAll(): void;
}

export function signalingMembers(): SignalingMembers {
  const open: SignalingClient[] = [];
  const connect = async (node: SignalingNode, address?: string) => {
    const headers = address ? { 'x-forwarded-for': address } : undefined;
    const client = await connectSignaling(node.wsUrl, 10_000, headers && { headers });
    open.push(client);
    return client;
  };
  const joinWith = async (
    node: SignalingNode,
    data: RequestData<'room.join'>,
    address?: string,
  ) => {
    const client = await connect(node, address);
    const answer = await client.request('room.join', data);
    return { client, answer, id: answer.self.id };
  };
  return {
    connect,
    joinWith,
    join: (node, roomId, nickname, extras = {}, address) =>
      joinWith(node, { roomId, nickname, ...extras }, address),
    async createRoom(node, name, extras = {}, address) {
      const client = await connect(node, address);
      try {
        const { room, ownerSecret } = await client.request('room.create', { name, ...extras });
        return { roomId: room.id, ownerSecret };
      } finally {
        client.close();
      }
    },
    track(client) {
      open.push(client);
    },
    closeAll() {
      for (const client of open.splice(0)) client.close();
    },
  };
}
