/**
 * Browser e2e across nodes: two Tutti nodes in this process (own worker pools, HTTP ports
 * and media addresses 127.0.0.84/85, one in-process cluster hub), a Chromium page on each,
 * loaded from its own node, in one room: each decodes the other's camera and hears its mic.
 * The tiles are per member: a page shows the other's video once that member is listed there
 * (remote members, federation/presence) and its producers were piped in (federation/media*).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { LocalClusterHub } from '../../server/src/cluster/index.ts';
import {
  sharedDataDir,
  startNode,
  type InProcessNode,
} from '../../server/test/helpers/clusterNodes.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';

const ROOM = 'Across nodes';

describe('two browsers on two nodes', () => {
  const hub = new LocalClusterHub();
  const data = sharedDataDir();
  let browser: Browser;
  let a: InProcessNode;
  let b: InProcessNode;
  let alice: Participant;
  let bob: Participant;

  before(async () => {
    browser = await launchBrowser();
    a = await startNode({ nodeId: 'e2e-media-a', host: '127.0.0.84', dataDir: data.dir, hub });
    alice = await newParticipant(browser, a.url, 'Alice');
    await alice.createRoom({ name: ROOM });
    // The room is read from the shared store at start-up: b starts after it exists.
    b = await startNode({ nodeId: 'e2e-media-b', host: '127.0.0.85', dataDir: data.dir, hub });
    bob = await newParticipant(browser, b.url, 'Bob');
    await bob.joinRoom(ROOM);
    await bob.waitInRoom();
  });

  after(async () => {
    await browser?.close();
    await b?.stop();
    await a?.stop();
    data.remove();
  });

  test('each page’s WebSocket stays on the node it loaded from; media crosses', async () => {
    const room = (n: InProcessNode) =>
      [...n.app.tutti.rooms.rooms()].find((r) => r.record.name === ROOM)!;
    assert.equal(room(a).size, 1, 'Alice is a member on a');
    assert.equal(room(b).size, 1, 'Bob is a member on b');
    assert.equal([...room(a).members()][0]!.info.nickname, 'Alice');
    assert.equal([...room(b).members()][0]!.info.nickname, 'Bob');
    // Each node pipes the other's camera and mic in.
    const remote = async (n: InProcessNode) => {
      const deadline = Date.now() + 20_000;
      while (room(n).remote.size < 2 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      return room(n).remote.size;
    };
    assert.equal(await remote(a), 2, 'Bob’s camera and mic piped into a');
    assert.equal(await remote(b), 2, 'Alice’s camera and mic piped into b');
  });

  test('each page receives the other’s camera and mic over its own node', async () => {
    const idOn = (n: InProcessNode) =>
      [...[...n.app.tutti.rooms.rooms()].find((r) => r.record.name === ROOM)!.members()][0]!.id;
    const pairs: [Participant, string][] = [
      [alice, idOn(b)],
      [bob, idOn(a)],
    ];
    for (const [p, from] of pairs) {
      for (const kind of ['video', 'audio'] as const) {
        const bytes = () =>
          p.page.evaluate(
            async ({ k, id }) => (await window.__tutti?.inboundBytesByPeer(k))?.[id] ?? 0,
            { k: kind, id: from },
          );
        const start = await bytes();
        await waitFor(
          async () => (await bytes()) - start > (kind === 'video' ? 20_000 : 2000),
          20_000,
          `${p.nickname} receiving ${kind} from the other node`,
        );
      }
    }
  });

  test('each page decodes the other’s camera and hears it', async () => {
    for (const p of [alice, bob]) await p.waitParticipantCount(2, 15_000);
    for (const p of [alice, bob]) {
      const gained = await p.waitVideosDecoding(1, 15, 30_000);
      assert.equal(gained.length, 1, `${p.nickname} decodes the other camera`);
    }
    for (const p of [alice, bob]) await p.waitAudioFlowing(3000);
  });
});
