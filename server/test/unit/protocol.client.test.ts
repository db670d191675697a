import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  errorCodeOf,
  FrameLink,
  parseFrame,
  type NewConsumer,
  type ProtooFrame,
} from '@tutti/protocol';

/** A FrameLink whose outgoing frames land in `sent`; `reply` plays the server. */
function pipe() {
  const sent: ProtooFrame[] = [];
  const link = new FrameLink((text) => {
    const frame = parseFrame(text);
    assert.notEqual(typeof frame, 'string', text);
    sent.push(frame as ProtooFrame);
  });
  const reply = (frame: object) => link.receive(JSON.stringify(frame));
  const lastRequestId = () => {
    const last = sent.at(-1);
    assert.ok(last && 'request' in last);
    return last.id;
  };
  return { link, client: link.client, sent, reply, lastRequestId };
}

const consumer: NewConsumer = {
  id: 'c1',
  producerId: 'p1',
  peerId: 'a',
  kind: 'audio',
  source: 'mic',
  rtpParameters: { codecs: [] },
  type: 'simple',
  producerPaused: false,
};

test('a request is answered by the response with its id', async () => {
  const { client, sent, reply, lastRequestId } = pipe();
  const answer = client.request('chat.send', { text: 'hi' });
  const id = lastRequestId();
  assert.deepEqual(sent[0], { request: true, id, method: 'chat.send', data: { text: 'hi' } });
  reply({ response: true, id: id + 1, ok: true, data: { wrong: true } });
  reply({ response: true, id, ok: true, data: { message: { id: 'm1' } } });
  assert.deepEqual(await answer, { message: { id: 'm1' } });
});

test('an error response rejects with its reason (code readable with errorCodeOf)', async () => {
  const { client, reply, lastRequestId } = pipe();
  const answer = client.request('room.leave', {});
  reply({
    response: true,
    id: lastRequestId(),
    ok: false,
    errorCode: 403,
    errorReason: 'NOT_JOINED: no',
  });
  await assert.rejects(answer, (err) => errorCodeOf(err) === 'NOT_JOINED');
});

test('a request without an answer times out with TIMEOUT', async () => {
  const { client } = pipe();
  await assert.rejects(client.request('lobby.subscribe', {}, 30), (err) => {
    assert.equal(errorCodeOf(err), 'TIMEOUT');
    return true;
  });
});

test('closing the link fails pending requests and refuses new ones', async () => {
  const { link, client } = pipe();
  const pending = client.request('lobby.subscribe', {});
  link.close();
  await assert.rejects(pending, /connection closed/);
  await assert.rejects(client.request('lobby.subscribe', {}), /connection closed/);
});

test('notifications reach typed listeners; a throwing listener does not stop the others', () => {
  const errors: string[] = [];
  const link = new FrameLink(() => {}, { onError: (_err, method) => errors.push(method) });
  const got: (string | null)[] = [];
  const all: string[] = [];
  link.client.on('media.activeSpeaker', () => {
    throw new Error('boom');
  });
  const off = link.client.on('media.activeSpeaker', ({ peerId }) => got.push(peerId));
  link.client.onAny((n) => all.push(n.method));
  link.receive(
    JSON.stringify({ notification: true, method: 'media.activeSpeaker', data: { peerId: 'a' } }),
  );
  off();
  link.receive(
    JSON.stringify({ notification: true, method: 'media.activeSpeaker', data: { peerId: 'b' } }),
  );
  link.receive('not json');
  assert.deepEqual(got, ['a']);
  assert.deepEqual(all, ['media.activeSpeaker', 'media.activeSpeaker']);
  assert.deepEqual(errors, ['media.activeSpeaker', 'media.activeSpeaker']);
});

test('server requests: handled, unknown (UNKNOWN_METHOD) and failing (INTERNAL)', async () => {
  const { client, sent, reply } = pipe();
  const answered = () => new Promise((r) => setImmediate(r));
  reply({ request: true, id: 1, method: 'media.newConsumer', data: consumer });
  await answered();
  assert.deepEqual(sent.at(-1), {
    response: true,
    id: 1,
    ok: false,
    errorCode: 405,
    errorReason: 'UNKNOWN_METHOD: media.newConsumer',
  });

  const seen: string[] = [];
  const off = client.handle('media.newConsumer', async (c) => {
    seen.push(c.producerId);
    return {};
  });
  reply({ request: true, id: 2, method: 'media.newConsumer', data: consumer });
  await answered();
  assert.deepEqual(sent.at(-1), { response: true, id: 2, ok: true, data: {} });
  assert.deepEqual(seen, ['p1']);
  off();

  client.handleOther(() => {
    throw new Error('no transport');
  });
  reply({ request: true, id: 3, method: 'media.newConsumer', data: consumer });
  await answered();
  assert.deepEqual(sent.at(-1), {
    response: true,
    id: 3,
    ok: false,
    errorCode: 500,
    errorReason: 'INTERNAL: no transport',
  });
});
