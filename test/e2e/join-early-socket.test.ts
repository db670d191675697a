/**
 * Browser e2e (issue 12): the signaling socket is opened by client/src/boot.ts — the page's
 * first, import-free module — before the Svelte runtime and the app's chunks are evaluated,
 * and the app adopts it: a page load opens exactly one WebSocket, and the shared link's
 * lobby.subscribe, room.join and everything after go over it. When that early socket drops,
 * the client reconnects (a new socket, protoo's own transport) and resumes the room.
 * Two Chromium pages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestServer } from '../helpers/startServer.ts';
import { waitFor, type Participant } from '../helpers/browser.ts';
import {
  roomIdOf,
  startBrowserPair,
  storeNickname,
  type BrowserPair,
} from '../helpers/browserPair.ts';

const ROOM = 'Early socket';
const HOST = '127.0.14.3';

/**
 * Per WebSocket the page creates: whether the Svelte runtime had been evaluated yet
 * (`window.__svelte`, set by its first module), the script that created it (the first
 * /assets/ URL on the stack), and the protoo requests sent on it.
 */
const RECORD_SOCKETS = `(() => {
  const sockets = [];
  window.__sockets = sockets;
  window.__socketObjects = [];
  const NativeWs = window.WebSocket;
  window.WebSocket = class extends NativeWs {
    constructor(...a) {
      super(...a);
      const stack = new Error().stack || '';
      const script = (stack.match(/\\/assets\\/[^\\s:)]+/) || [''])[0];
      const entry = { svelteBefore: window.__svelte !== undefined, script, sent: [], opened: false };
      sockets.push(entry);
      window.__socketObjects.push(this);
      this.addEventListener('open', () => (entry.opened = true));
      const send = this.send.bind(this);
      this.send = (text) => {
        try {
          const m = JSON.parse(text);
          if (m.request) entry.sent.push(m.method);
        } catch {}
        return send(text);
      };
    }
  };
})();`;

interface SocketLog {
  svelteBefore: boolean;
  script: string;
  sent: string[];
  opened: boolean;
}

const socketsOf = (p: Participant): Promise<SocketLog[]> =>
  p.page.evaluate(() => (window as unknown as { __sockets: SocketLog[] }).__sockets);

describe('the signaling socket opened before the app', () => {
  let pair: BrowserPair;
  let server: TestServer;
  let alice: Participant;
  let bob: Participant;
  let roomId = '';

  before(async () => {
    pair = await startBrowserPair(HOST);
    ({ server, alice, bob } = pair);
    await storeNickname(bob, 'Bob');
    await bob.context.addInitScript(RECORD_SOCKETS);
    await alice.createRoom({ name: ROOM });
    roomId = roomIdOf(alice);
  });

  after(async () => {
    await pair?.close();
  });

  test('a shared link joins over the one socket boot.ts opened before the app was evaluated', async () => {
    await bob.page.goto(`${server.url}/#/room/${encodeURIComponent(roomId)}`);
    await bob.waitInRoom();
    assert.equal((await bob.waitVideosDecoding(1, 10)).length, 1, "Bob decodes Alice's camera");

    const sockets = await socketsOf(bob);
    assert.equal(sockets.length, 1, `one WebSocket per page load: ${JSON.stringify(sockets)}`);
    const [ws] = sockets;
    assert.equal(ws!.svelteBefore, false, 'created before the Svelte runtime was evaluated');
    assert.match(ws!.script, /^\/assets\/boot-[\w-]+\.js$/, 'created by the boot script');
    assert.equal(ws!.sent[0], 'lobby.subscribe', `first request: ${ws!.sent.join(', ')}`);
    assert.equal(ws!.sent.filter((m) => m === 'lobby.subscribe').length, 1, 'the lobby once');
    assert.ok(ws!.sent.includes('room.join'), `the join went over it: ${ws!.sent.join(', ')}`);
    assert.ok(ws!.sent.includes('media.produce'), 'and the media requests');
    for (const method of ['media.connectTransport', 'media.createTransport', 'media.ready'])
      assert.ok(!ws!.sent.includes(method), `the one-reply join (no ${method})`);
    await alice.waitParticipantCount(2);
  });

  test('when the early socket drops, a new one takes over and the room is resumed', async () => {
    await bob.page.evaluate(() =>
      (window as unknown as { __socketObjects: WebSocket[] }).__socketObjects[0]!.close(),
    );
    await waitFor(
      async () => (await socketsOf(bob)).filter((s) => s.opened).length === 2,
      20_000,
      'a second socket open',
    );
    await waitFor(
      async () => (await socketsOf(bob))[1]!.sent.includes('session.resume'),
      20_000,
      'the membership resumed over it',
    );
    await bob.waitInRoom();
    await alice.waitParticipantCount(2);
    // Still receiving over the kept transports, and Alice still sees one Bob.
    assert.equal((await bob.waitVideosDecoding(1, 10)).length, 1);
    const second = (await socketsOf(bob))[1]!;
    assert.ok(!second.sent.includes('room.join'), `resumed, not re-joined: ${second.sent.join()}`);
  });
});
