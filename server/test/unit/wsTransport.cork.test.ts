import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WsTransport, type WsLike } from '../../src/transport/WsTransport.ts';
import { wsSocketPairs } from '../helpers/wsSocketPairs.ts';

// Chat fan-out: the frames one tick sends to a socket leave in one write (issue 12).

test('frames sent in one tick to a real ws socket leave as one write, in order', async () => {
  const { list, close } = await wsSocketPairs(1);
  const { server, socket, got, writes, clientClosed } = list[0]!;
  try {
    const transport = new WsTransport(server as unknown as WsLike);

    const sent = ['one', 'two', 'three'].map((text) => transport.sendRaw(text));
    assert.equal(socket.writableCorked, 1, 'corked for the rest of the tick');
    assert.equal(writes(), 0);
    await Promise.all(sent);
    assert.equal(socket.writableCorked, 0);
    assert.equal(writes(), 1, 'three frames, one write');

    await transport.sendRaw('four'); // a later tick: its own write
    assert.equal(writes(), 2);
    const deadline = Date.now() + 2000;
    while (got.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(got, ['one', 'two', 'three', 'four']);

    transport.close(); // a close in a corked tick still goes out
    await clientClosed;
  } finally {
    await close();
  }
});
