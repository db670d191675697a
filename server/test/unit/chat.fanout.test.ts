import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@tutti/config';
import type { WorkerPool } from '@tutti/media-workers';
import { silentLogger } from '../../src/kernel/log.ts';
import type { Peer as ProtooPeer } from 'protoo-server';
import { ChatService, type Presenter } from '../../src/chat/ChatService.ts';
import { LocalChatBus } from '../../src/chat/LocalChatBus.ts';
import type { ChatMessage } from '@tutti/protocol';
import type { RoomDirectory } from '../../src/rooms/ports.ts';
import { ProtooChannel as Peer } from '../../src/transport/ProtooChannel.ts';
import { Room } from '../../src/rooms/Room.ts';
import { WsTransport, type WsLike } from '../../src/transport/WsTransport.ts';
import type { AppendRequest, ChatStore, NewChatMessage } from '../../src/store/chatStore.ts';

/** A peer on a real WsTransport over a fake socket that records every frame it is given. */
function socketPeer(id: string): { peer: Peer; frames: string[] } {
  const frames: string[] = [];
  const ws: WsLike = {
    readyState: 1,
    send(data, cb) {
      frames.push(data);
      cb?.();
    },
    close() {},
    on() {
      return undefined;
    },
  };
  const transport = new WsTransport(ws, id);
  // protoo's Peer.notify(): builds the envelope and hands it to transport.send (which stringifies).
  const signal = {
    id,
    get closed() {
      return transport.closed;
    },
    notify: (method: string, data: unknown) =>
      transport.send({ notification: true, method, data: data ?? {} }),
    request: () => Promise.resolve({}),
    close: () => transport.close(),
  } as unknown as ProtooPeer;
  return { peer: new Peer(signal, '127.0.0.1', transport), frames };
}

class MemoryStore implements ChatStore {
  seq = 0;
  async append(m: NewChatMessage): Promise<ChatMessage> {
    this.seq++;
    return { ...m, id: `m${this.seq}`, seq: this.seq };
  }
  async appendOnce(m: NewChatMessage) {
    return { message: await this.append(m), created: true };
  }
  async appendBatch(requests: readonly AppendRequest[]) {
    return Promise.all(
      requests.map(async (r) => ({
        status: 'fulfilled' as const,
        value: await this.appendOnce(r.message),
      })),
    );
  }
  async findByKey() {
    return undefined;
  }
  async page() {
    return { messages: [], hasMore: false };
  }
  async findFile() {
    return undefined;
  }
  async delete() {}
  async deleteRoom() {}
  async close() {}
}

function setup(n: number, present?: Presenter) {
  const members = Array.from({ length: n }, (_, i) => socketPeer(`p${i}`));
  // Every member sits in room 'r' under its id in capitals.
  const membership = (id: string) =>
    members.some((m) => m.peer.id === id)
      ? { roomId: 'r', nickname: id.toUpperCase(), role: 'participant' as const }
      : undefined;
  const rooms: RoomDirectory = {
    membership,
    requireMembership: (id) => membership(id)!,
    members: () => members.map((m) => m.peer),
    member: (_roomId, peerId) => {
      const m = membership(peerId);
      return m && { id: peerId, nickname: m.nickname };
    },
  };
  const chat = new ChatService({
    store: new MemoryStore(),
    bus: new LocalChatBus(),
    rooms,
    settings: { ratePerSecond: 100, burst: 100, maxLength: 2000, historyPageSize: 100 },
    present,
  });
  return { members, chat };
}

test('chat: a room-wide message is serialized once and the same frame goes to every peer', async (t) => {
  const { members, chat } = setup(50);
  const stringify = t.mock.method(JSON, 'stringify');
  const sent = await chat.send(members[3]!.peer, { text: 'hello all' });
  assert.equal(stringify.mock.callCount(), 1, 'one JSON.stringify for 50 recipients');
  stringify.mock.restore();

  const first = members[0]!.frames[0];
  assert.ok(first !== undefined);
  for (const m of members) assert.deepEqual(m.frames, [first]);
  assert.deepEqual(JSON.parse(first), {
    notification: true,
    method: 'chat.message',
    data: { message: sent },
  });
  chat.close();
});

test('chat: private messages reach two peers; file messages are personalised per peer', async () => {
  const { members, chat } = setup(5, (m, viewer) =>
    m.file ? { ...m, file: { ...m.file, url: `${m.file.url}?t=${viewer}` } } : m,
  );
  const [a, b] = [members[0]!, members[1]!];
  await chat.send(a.peer, { text: 'psst', to: b.peer.id });
  for (const m of members) {
    assert.equal(m.frames.length, m === a || m === b ? 1 : 0, `${m.peer.id} private`);
  }
  await chat.postFile(
    { peerId: a.peer.id, nickname: 'P0', roomId: 'r' },
    { id: 'f1', name: 'x.txt', size: 1, type: 'text/plain', url: '/api/files/r/f1' },
  );
  const urls = members.map((m) => {
    const last = JSON.parse(m.frames.at(-1)!) as { data: { message: ChatMessage } };
    return last.data.message.file?.url;
  });
  assert.deepEqual(
    urls,
    members.map((m) => `/api/files/r/f1?t=${m.peer.id}`),
  );
  // Order is kept across prepared and per-peer frames.
  await chat.send(b.peer, { text: 'after' });
  for (const m of members) {
    const seqs = m.frames.map((f) => (JSON.parse(f) as { data: { message: ChatMessage } }).data);
    const ordered = seqs.map((d) => d.message.seq);
    assert.deepEqual(
      ordered,
      [...ordered].sort((x, y) => x - y),
    );
  }
  chat.close();
});

test('room: broadcast serializes once for all members', () => {
  const config = loadConfig({}, {});
  const room = new Room(
    {
      id: 'r1',
      name: 'R',
      nameKey: 'r',
      passwordHash: null,
      capacity: 50,
      ownerSecretHash: 'x',
      createdAt: 0,
      emptySince: 0,
      ownerAccountId: null,
      settings: { waitingRoom: false, moderatorsUnmute: false, signedInOnly: false },
      e2ee: false,
    },
    { config, pool: {} as WorkerPool, log: silentLogger },
  );
  const members = Array.from({ length: 20 }, (_, i) => socketPeer(`p${i}`));
  for (const m of members) room.admit(m.peer, m.peer.id);
  for (const m of members) m.frames.length = 0;
  const stringify = mock.method(JSON, 'stringify');
  room.broadcast('media.restart', { reason: 'worker-died' }, 'p0');
  assert.equal(stringify.mock.callCount(), 1);
  stringify.mock.restore();
  assert.equal(members[0]!.frames.length, 0);
  for (const m of members.slice(1)) {
    assert.deepEqual(m.frames, [
      JSON.stringify({
        notification: true,
        method: 'media.restart',
        data: { reason: 'worker-died' },
      }),
    ]);
  }
});
