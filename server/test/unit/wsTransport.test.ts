import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import protoo from 'protoo-server';
import { parseFrame as parseProtooMessage } from '@tutti/protocol';
import { WsTransport, type WsLike } from '../../src/transport/WsTransport.ts';

class FakeWs extends EventEmitter implements WsLike {
  readyState = 1;
  sent: string[] = [];
  closedWith: number | undefined;
  failSend = false;
  send(data: string, cb?: (err?: Error) => void): void {
    if (this.failSend) return cb?.(new Error('boom'));
    this.sent.push(data);
    cb?.();
  }
  close(code?: number): void {
    this.closedWith = code;
    this.readyState = 3;
    setImmediate(() => this.emit('close', code ?? 1000, Buffer.alloc(0)));
  }
  /** Simulates a frame from the client. */
  receive(text: string | Buffer, isBinary = false): void {
    this.emit('message', typeof text === 'string' ? Buffer.from(text) : text, isBinary);
  }
}

test('parseProtooMessage accepts the three protoo shapes and rejects garbage', () => {
  assert.deepEqual(parseProtooMessage('{"request":true,"id":1,"method":"a","data":{"x":1}}'), {
    request: true,
    id: 1,
    method: 'a',
    data: { x: 1 },
  });
  assert.deepEqual(parseProtooMessage('{"notification":true,"method":"n"}'), {
    notification: true,
    method: 'n',
    data: {},
  });
  const res = parseProtooMessage('{"response":true,"id":7,"ok":true,"data":{"a":2}}');
  assert.deepEqual(res, { response: true, id: 7, ok: true, data: { a: 2 } });
  for (const bad of [
    'not json',
    '[]',
    'null',
    '42',
    '"str"',
    '{}',
    '{"request":true,"method":"a"}',
    '{"request":true,"id":"1","method":"a"}',
    '{"request":true,"id":1.5,"method":"a"}',
    '{"request":true,"id":1,"method":7}',
    '{"request":true,"id":1,"method":""}',
    `{"request":true,"id":1,"method":"${'m'.repeat(500)}"}`,
    '{"response":true}',
    '{"notification":true}',
    '{"request":"yes","id":1,"method":"a"}',
  ]) {
    assert.equal(typeof parseProtooMessage(bad), 'string', bad);
  }
});

test('WsTransport emits parsed messages and drops invalid frames without throwing', () => {
  const ws = new FakeWs();
  const t = new WsTransport(ws, 'WS:test');
  const got: unknown[] = [];
  const invalid: string[] = [];
  t.on('message', (m) => got.push(m));
  t.on('invalid', (r: string) => invalid.push(r));
  ws.receive('{"request":true,"id":1,"method":"x","data":{}}');
  ws.receive('garbage{');
  ws.receive(Buffer.from([0, 1, 2]), true);
  ws.receive('{"hello":1}');
  assert.equal(got.length, 1);
  assert.equal(t.invalidFrames, 3);
  assert.deepEqual(invalid, ['invalid JSON', 'binary frame', 'not a protoo message']);
  assert.equal(t.toString(), 'WS:test');
});

test('a throwing listener is contained (reported to onError)', () => {
  const ws = new FakeWs();
  const errors: unknown[] = [];
  const t = new WsTransport(ws, 'x', (e) => errors.push(e));
  t.on('message', () => {
    throw new Error('listener bug');
  });
  assert.doesNotThrow(() => ws.receive('{"notification":true,"method":"a"}'));
  assert.equal(errors.length, 1);
});

test('send serialises JSON; send after close rejects; close emits once with code 4000', async () => {
  const ws = new FakeWs();
  const t = new WsTransport(ws);
  await t.send({ a: 1 });
  assert.deepEqual(ws.sent, ['{"a":1}']);
  ws.failSend = true;
  await assert.rejects(t.send({ b: 2 }), /boom/);
  let closes = 0;
  t.on('close', () => closes++);
  t.close();
  t.close();
  assert.equal(t.closed, true);
  assert.equal(ws.closedWith, 4000);
  await new Promise((r) => setImmediate(r));
  assert.equal(closes, 1);
  await assert.rejects(t.send({}), /closed/);
});

test('socket close marks the transport closed', () => {
  const ws = new FakeWs();
  const t = new WsTransport(ws);
  let closed = false;
  t.on('close', () => (closed = true));
  ws.emit('close', 1006, Buffer.alloc(0));
  assert.equal(t.closed, true);
  assert.equal(closed, true);
});

test('works as a protoo-server transport: requests reach the peer, responses go out', async () => {
  const ws = new FakeWs();
  const t = new WsTransport(ws);
  const room = new protoo.Room();
  const peer = room.createPeer('p1', t);
  peer.on('request', (req, accept) => accept({ echo: req.method }));
  ws.receive('{"request":true,"id":5,"method":"ping","data":{}}');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(JSON.parse(ws.sent[0]!), {
    response: true,
    id: 5,
    ok: true,
    data: { echo: 'ping' },
  });

  // Server → client request answered by the client.
  const pending = peer.request('srv.ask', { q: 1 });
  await new Promise((r) => setImmediate(r));
  const sent = JSON.parse(ws.sent[1]!) as { id: number; method: string };
  assert.equal(sent.method, 'srv.ask');
  ws.receive(JSON.stringify({ response: true, id: sent.id, ok: true, data: { a: 42 } }));
  assert.deepEqual(await pending, { a: 42 });

  // Socket closes → peer closes and leaves the protoo room.
  ws.emit('close', 1000, Buffer.alloc(0));
  assert.equal(peer.closed, true);
  assert.equal(room.hasPeer('p1'), false);
  room.close();
});
