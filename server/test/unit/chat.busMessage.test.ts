import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '@tutti/protocol';
import {
  busKey,
  openBusMessage,
  parseBusMessage,
  sealBusMessage,
} from '../../src/chat/busMessage.ts';

const message: ChatMessage = {
  id: 'm1',
  seq: 1,
  roomId: 'r',
  from: { peerId: 'bob', nickname: 'Bob' },
  to: { peerId: 'alice', nickname: 'Alice' },
  text: 'hi',
  createdAt: 1,
};
const key = busKey('a cluster secret of 16+ chars');

test('a sealed message opens with the same key, and only with it', () => {
  const payload = sealBusMessage(message, key);
  assert.deepEqual(openBusMessage(payload, key), message);
  assert.equal(openBusMessage(payload, busKey('another cluster secret!!')), 'bad signature');
});

test('any change to a signed message is refused', () => {
  const { m, s } = JSON.parse(sealBusMessage(message, key)) as { m: string; s: string };
  const forged = JSON.stringify({ ...message, from: { peerId: 'carol', nickname: 'Bob' } });
  assert.equal(openBusMessage(JSON.stringify({ m: forged, s }), key), 'bad signature');
  const flipped = (s[0] === '0' ? '1' : '0') + s.slice(1);
  assert.equal(openBusMessage(JSON.stringify({ m, s: flipped }), key), 'bad signature');
});

test('unsigned, malformed and wrongly shaped payloads are refused with a reason', () => {
  for (const payload of [JSON.stringify(message), '{not json', 'null', '[]', '{"m":1,"s":"x"}']) {
    assert.equal(openBusMessage(payload, key), 'not a signed bus message', payload);
  }
  // Even signed by a node, a payload that is not a chat message is dropped.
  const wrongShape = { id: 'x', text: 7 } as unknown as ChatMessage;
  assert.equal(openBusMessage(sealBusMessage(wrongShape, key), key), 'not a chat message');
});

test('a message whose text is an object with an unreadable length is refused, not thrown', () => {
  // zod 4.6's length checks throw on `{ length: { toString: [] } }` (safeParseInput catches it).
  const payload = JSON.stringify({ text: { length: { toString: [] } } });
  assert.equal(parseBusMessage(payload), 'not a chat message');
});
