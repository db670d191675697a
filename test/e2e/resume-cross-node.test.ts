/**
 * Browser e2e: a page whose signaling socket comes back through another node of the cluster
 * carries on (docs/reconnect.md, "Resume through another node"). Two Tutti nodes in this
 * process on one cluster hub; Alice's page is loaded through a TCP proxy that first leads to
 * node A, then (every connection cut, as a load balancer losing its backend) to node B. Bob
 * is on node A. Alice keeps her membership (same id, no rejoin, Bob never sees her leave),
 * is seated on node B now, and her media is rebuilt there: each page decodes the other again.
 *
 * TUTTI_TEST_RESUME_E2E_HOSTS overrides the three addresses (node A, node B, the proxy).
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
import { TcpProxy } from '../../server/test/helpers/tcpProxy.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';

const ROOM = 'Roaming page';
const [HOST_A, HOST_B, HOST_PROXY] = (
  process.env.TUTTI_TEST_RESUME_E2E_HOSTS ?? '127.0.17.11,127.0.17.12,127.0.17.13'
).split(',') as [string, string, string];

const portOf = (node: InProcessNode) => Number(new URL(node.url).port);

describe('a page resumes its membership through another node', () => {
  const hub = new LocalClusterHub();
  const data = sharedDataDir();
  let browser: Browser;
  let a: InProcessNode;
  let b: InProcessNode;
  let proxy: TcpProxy;
  let alice: Participant;
  let bob: Participant;

  const room = (n: InProcessNode) =>
    [...n.app.tutti.rooms.rooms()].find((r) => r.record.name === ROOM);

  before(async () => {
    browser = await launchBrowser();
    // One files secret: it signs the presence bus too (else each node drops the other's).
    const overrides = { files: { secret: 'e2e-resume-secret-0123456789' } };
    const spec = { dataDir: data.dir, hub, overrides };
    a = await startNode({ nodeId: 'e2e-resume-a', host: HOST_A, ...spec });
    b = await startNode({ nodeId: 'e2e-resume-b', host: HOST_B, ...spec });
    proxy = new TcpProxy({ host: HOST_A, port: portOf(a) });
    await proxy.start(HOST_PROXY);
    // In the room, with more patience than waitInRoom() on a loaded machine.
    const inRoom = (p: Participant) =>
      p.page.getByTestId('participant-list').waitFor({ timeout: 90_000 });
    bob = await newParticipant(browser, a.url, 'Bob');
    await bob.openLobby();
    await bob.page.getByTestId('room-name').fill(ROOM);
    await bob.page.getByTestId('create-room').click();
    await inRoom(bob);
    alice = await newParticipant(browser, `http://${HOST_PROXY}:${proxy.port}`, 'Alice');
    await alice.joinRoom(ROOM);
    await inRoom(alice);
  });

  after(async () => {
    await browser?.close();
    await proxy?.stop();
    await b?.stop();
    await a?.stop();
    data.remove();
  });

  test('same membership on node B, no leave for Bob, media decoding again both ways', async () => {
    await bob.waitVideosDecoding(1, 5, 120_000);
    await alice.waitVideosDecoding(1, 5, 120_000);
    const aliceId = await alice.page.evaluate(() => window.__tutti!.selfId());
    assert.ok(room(a)?.hasMember(aliceId), 'Alice sits on node A');
    // Bob's page must never show her leaving: watch his participant count.
    await bob.page.evaluate(() => {
      const w = window as unknown as { __counts: string[] };
      w.__counts = [];
      const el = () => document.querySelector('[data-testid="participant-count"]');
      setInterval(() => w.__counts.push(el()?.textContent?.trim() ?? ''), 100);
    });

    proxy.switchTo({ host: HOST_B, port: portOf(b) });

    await waitFor(() => room(b)?.hasMember(aliceId), 30_000, 'Alice seated on node B');
    assert.equal(room(a)?.hasMember(aliceId), false, 'no longer on node A');
    assert.equal(await alice.page.evaluate(() => window.__tutti!.selfId()), aliceId);
    await waitFor(
      async () => (await alice.page.evaluate(() => window.__tutti!.restarts())) >= 1,
      20_000,
      'Alice’s media rebuilt',
    );
    // Media again both ways: Bob's camera piped to node B for her, hers piped to A for him.
    await alice.waitVideosDecoding(1, 5, 120_000).catch(async (err: unknown) => {
      const media = await alice.page.evaluate(() => window.__tutti?.diagnostics());
      const notices = await alice.page.locator('body').innerText();
      throw new Error(`${String(err)}: ${JSON.stringify(media)} ${notices.slice(0, 500)}`);
    });
    await waitFor(
      async () => {
        const videos = await bob.videos();
        return videos.some((v) => v.peerId === aliceId && v.frames > 0);
      },
      30_000,
      'Bob has Alice’s video again',
    );
    await bob.waitVideosDecoding(1, 5, 120_000);
    await alice.page.getByTestId('participant-list').waitFor(); // Still the room view.
    const counts = await bob.page.evaluate(
      () => (window as unknown as { __counts: string[] }).__counts,
    );
    assert.ok(counts.length > 0 && counts.every((c) => c === '2'), `Bob saw ${counts.join(',')}`);
  });

  // Under load the new socket can go while the rebuild is under way (a missed heartbeat, a
  // second cut): its requests are lost with it, and the resume on the next socket (same
  // node) says 'kept'. The rebuild must be done again then, not left half-made.
  test('back to node A, the socket lost during the rebuild: rebuilt again, decoding', async () => {
    const aliceId = await alice.page.evaluate(() => window.__tutti!.selfId());
    const restarts = await alice.page.evaluate(() => window.__tutti!.restarts());
    // The page's next media.createTransport never leaves: its socket closes instead (no
    // status: a drop to the server, which keeps the membership).
    await alice.page.evaluate(() => {
      const w = window as unknown as { __cutRebuild?: boolean };
      w.__cutRebuild = true;
      const send = WebSocket.prototype.send;
      WebSocket.prototype.send = function (this: WebSocket, data) {
        if (w.__cutRebuild && typeof data === 'string' && data.includes('media.createTransport')) {
          w.__cutRebuild = false;
          this.close();
          return;
        }
        send.call(this, data);
      };
    });
    proxy.switchTo({ host: HOST_A, port: portOf(a) });
    await waitFor(() => room(a)?.hasMember(aliceId), 30_000, 'Alice seated on node A again');
    await waitFor(
      async () => alice.page.evaluate(() => !(window as { __cutRebuild?: boolean }).__cutRebuild),
      30_000,
      'the rebuild’s socket cut',
    );
    await waitFor(
      async () => (await alice.page.evaluate(() => window.__tutti!.restarts())) >= restarts + 2,
      30_000,
      'Alice’s media rebuilt again on the next socket',
    );
    assert.equal(await alice.page.evaluate(() => window.__tutti!.selfId()), aliceId);
    await alice.waitVideosDecoding(1, 5, 120_000).catch(async (err: unknown) => {
      const media = await alice.page.evaluate(() => window.__tutti?.diagnostics());
      throw new Error(`${String(err)}: ${JSON.stringify(media)}`);
    });
    await bob.waitVideosDecoding(1, 5, 120_000);
  });
});
