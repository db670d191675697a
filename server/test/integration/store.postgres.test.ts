import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCodeOf, type RoomSummary } from '@tutti/protocol';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { createRoom, joinRoom, received, until, type Member } from '../helpers/chatClients.ts';
import { createTestSchema, TEST_DATABASE_URL, type TestSchema } from '../helpers/pgSchema.ts';
import { TcpProxy } from '../helpers/tcpProxy.ts';

// A full server with database.url set: rooms, chat history and accounts in PostgreSQL (a
// schema of its own), through a TCP proxy so the database can really go away and come back.
let schema: TestSchema;
let proxy: TcpProxy;
let server: TestServer;
const members: Member[] = [];

before(async () => {
  schema = await createTestSchema();
  const target = new URL(TEST_DATABASE_URL);
  proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await proxy.start();
  const url = new URL(schema.url);
  url.port = String(proxy.port);
  server = await startTestServer({
    database: { url: url.toString(), connectTimeoutMs: 1000, statementTimeoutMs: 1000 },
  });
});

after(async () => {
  for (const m of members) m.client.close();
  await server?.stop();
  await proxy?.stop();
  await schema?.drop();
});

const join = async (roomId: string, nickname: string) => {
  const m = await joinRoom(server, roomId, nickname);
  members.push(m);
  return m;
};

const listRooms = async (): Promise<RoomSummary[]> => {
  const res = await fetch(`${server.url}/api/rooms`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { rooms: RoomSummary[] }).rooms;
};

test('rooms, chat history, file records and accounts are in PostgreSQL and survive a restart', async () => {
  assert.equal(server.app.tutti.stores.kind, 'postgres');
  const { roomId } = await createRoom(server, 'Kept in Postgres');
  const ann = await join(roomId, 'Ann');
  const ben = await join(roomId, 'Ben');
  const one = await ann.client.request('chat.send', { text: 'first' });
  const two = await ben.client.request('chat.send', { text: 'second' });
  await ann.client.request('chat.send', { text: 'just for Ben', to: ben.id });
  const signup = await fetch(`${server.url}/api/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: server.url },
    body: JSON.stringify({ email: 'pg@example.test', password: 'long enough pw 1', name: 'Pg' }),
  });
  assert.equal(signup.status < 300, true, `signup: HTTP ${signup.status} ${await signup.text()}`);
  // A shared file: its record is the chat's file message, so it is in PostgreSQL too.
  const bytes = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    randomBytes(2000),
  ]);
  const { token } = await ann.client.request('files.uploadToken', {});
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)]), 'kept.png');
  const up = await fetch(`${server.url}/api/files?token=${encodeURIComponent(token)}`, {
    method: 'POST',
    body: form,
  });
  assert.equal(up.status < 300, true, `upload: HTTP ${up.status}`);

  await server.restart();

  assert.deepEqual(
    (await listRooms()).map((r) => [r.id, r.name]),
    [[roomId, 'Kept in Postgres']],
  );
  const back = await join(roomId, 'Back');
  // A new connection is a new peer: the private message is not its to see.
  assert.deepEqual(
    back.join.history.map((m) => [m.id, m.text]),
    [
      [one.message.id, 'first'],
      [two.message.id, 'second'],
      [back.join.history[2]!.id, 'kept.png'],
    ],
  );
  const file = back.join.history[2]!.file!;
  const download = await fetch(server.url + file.url);
  assert.equal(download.status, 200);
  assert.deepEqual(Buffer.from(await download.arrayBuffer()), bytes);
  const user = await server.app.tutti.stores.auth.userByEmail('pg@example.test');
  assert.equal(user?.name, 'Pg');
});

test('PostgreSQL down: requests answer STORE_UNAVAILABLE fast, nothing is published; then it recovers', async () => {
  const { roomId } = await createRoom(server, 'Outage');
  const ann = await join(roomId, 'Ann');
  const ben = await join(roomId, 'Ben');
  await ann.client.request('chat.send', { text: 'before' });
  await until(() => received(ben.client).length === 1, 5000, 'the first message at Ben');

  await proxy.stop();
  const started = Date.now();
  await assert.rejects(
    ann.client.request('chat.send', { text: 'during' }),
    (e) => errorCodeOf(e) === 'STORE_UNAVAILABLE',
  );
  await assert.rejects(
    ann.client.request('room.create', { name: 'Not now' }),
    (e) => errorCodeOf(e) === 'STORE_UNAVAILABLE',
  );
  await assert.rejects(
    ann.client.request('chat.history', {}),
    (e) => errorCodeOf(e) === 'STORE_UNAVAILABLE',
  );
  const rest = await fetch(`${server.url}/api/rooms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Not over HTTP either' }),
  });
  assert.equal(rest.status, 503);
  assert.equal(((await rest.json()) as { error: string }).error, 'STORE_UNAVAILABLE');
  assert.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms`);

  await proxy.start();
  let sent = await ann.client.request('chat.send', { text: 'after' }).catch(() => undefined);
  for (let i = 0; !sent && i < 20; i++) {
    await new Promise((r) => setTimeout(r, 100));
    sent = await ann.client.request('chat.send', { text: 'after' }).catch(() => undefined);
  }
  assert.ok(sent, 'chat works again once the database is back');
  await until(() => received(ben.client).length === 2, 5000, 'the message after the outage');
  assert.deepEqual(
    received(ben.client).map((m) => m.text),
    ['before', 'after'],
    'nothing from the outage was delivered',
  );
  const history = await ben.client.request('chat.history', {});
  assert.deepEqual(
    history.messages.map((m) => m.text),
    ['before', 'after'],
  );
});

test('joining while messages flow (history from PostgreSQL): nothing missed, nothing twice', async () => {
  const { roomId } = await createRoom(server, 'Busy on Postgres');
  const senders = await Promise.all(['S1', 'S2', 'S3'].map((n) => join(roomId, n)));
  const sent: Promise<string>[] = [];
  const joiners: Promise<Member>[] = [];
  for (let tick = 0; tick < 12; tick++) {
    for (const s of senders) {
      sent.push(s.client.request('chat.send', { text: `t${tick}` }).then((r) => r.message.id));
    }
    if (tick % 2 === 1) joiners.push(join(roomId, `J${tick}`));
    await new Promise((r) => setTimeout(r, 150));
  }
  const all = await Promise.all(sent);
  const joined = await Promise.all(joiners);
  const seen = (j: Member) => [...j.join.history, ...received(j.client)].map((m) => m.id);
  await until(() => joined.every((j) => seen(j).includes(all.at(-1)!)));
  for (const j of joined) {
    const history = j.join.history.map((m) => m.id);
    const live = received(j.client).map((m) => m.id);
    assert.equal(new Set(live).size, live.length, 'a live message arrived twice');
    assert.deepEqual(
      history.filter((id) => live.includes(id)),
      [],
      'history and live never overlap',
    );
    const from = all.indexOf(history[0] ?? live[0]!);
    assert.deepEqual(
      [...history, ...live].sort((a, b) => all.indexOf(a) - all.indexOf(b)),
      all.slice(from),
      'no gap',
    );
  }
});

test('PostgreSQL frozen: every queued chat.send answers STORE_UNAVAILABLE within about one timeout', async () => {
  const { roomId } = await createRoom(server, 'Frozen');
  const ann = await join(roomId, 'Ann');
  const ben = await join(roomId, 'Ben');
  proxy.freeze(); // connections stay open, nothing answers
  const started = Date.now();
  const answers = await Promise.all(
    Array.from({ length: 5 }, (_, i) =>
      ann.client.request('chat.send', { text: `frozen ${i}` }).then(
        () => 'ok',
        (e: unknown) => errorCodeOf(e),
      ),
    ),
  );
  const took = Date.now() - started;
  assert.deepEqual(answers, Array(5).fill('STORE_UNAVAILABLE'));
  // statementTimeoutMs is 1 s (the client gives up at 2 s): not one timeout per queued message.
  assert.ok(took < 4000, `answered in ${took} ms`);
  await proxy.stop();
  await proxy.start();
  let sent = await ann.client.request('chat.send', { text: 'thawed' }).catch(() => undefined);
  for (let i = 0; !sent && i < 20; i++) {
    await new Promise((r) => setTimeout(r, 100));
    sent = await ann.client.request('chat.send', { text: 'thawed' }).catch(() => undefined);
  }
  assert.ok(sent, 'chat works again');
  await until(() => received(ben.client).some((m) => m.text === 'thawed'), 5000, 'the thawed one');
  assert.deepEqual(
    received(ben.client).map((m) => m.text),
    ['thawed'],
  );
});
