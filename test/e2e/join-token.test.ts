/**
 * Browser e2e (issue #11): a page opened with `?token=` joins the token's room under the
 * token's name and role; the admin API mutes it (the mic button shows muted) and removes it
 * (the page is back in the lobby, saying so).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { PeerInfo, RoomSummary } from '@tutti/protocol';
import { mintJoinToken } from '../../server/src/admin/joinToken.ts';
import { ApiKeys } from '../../server/src/admin/keys.ts';
import { launchBrowser, newParticipant, type Participant } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';

let server: TestServer;
let browser: Browser;
let key: { id: string; secret: string };
const open: Participant[] = [];

before(async () => {
  browser = await launchBrowser();
  server = await startTestServer();
  key = await new ApiKeys(server.app.tutti.stores.auth).create('e2e');
});

after(async () => {
  await Promise.all(open.map((p) => p.close()));
  await browser?.close();
  await server?.stop();
});

async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key.id}:${key.secret}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
}

test('?token= joins the room with the token name and role; admin mute and remove reach the page', async () => {
  const created = await admin('POST', '/api/admin/rooms', { name: 'Invited only' });
  const { room } = (await created.json()) as { room: RoomSummary };
  const token = mintJoinToken(key, {
    identity: 'crm-7',
    name: 'Invited Ivy',
    room: room.id,
    role: 'moderator',
    ttlSeconds: 600,
  });
  const ivy = await newParticipant(browser, server.url, 'unused');
  open.push(ivy);
  await ivy.page.goto(`${server.url}/?token=${token}`);
  await ivy.waitInRoom();
  assert.ok(!ivy.page.url().includes('token='), 'the token left the address bar');
  await ivy.page.getByTestId('participant-list').getByText('Invited Ivy').waitFor();

  const list = async () =>
    (
      (await (await admin('GET', `/api/admin/rooms/${room.id}/participants`)).json()) as {
        participants: PeerInfo[];
      }
    ).participants;
  const [me] = await list();
  assert.equal(me?.nickname, 'Invited Ivy');
  assert.equal(me?.role, 'moderator');

  // Wait for the page's microphone to be live on the server, then mute it from the API.
  const mic = ivy.page.getByTestId('toggle-mic');
  await ivy.page.waitForFunction(
    () =>
      document.querySelector('[data-testid="toggle-mic"]')?.getAttribute('aria-pressed') === 'true',
    undefined,
    { timeout: 20_000 },
  );
  const muted = await admin('POST', `/api/admin/rooms/${room.id}/participants/${me!.id}/mute`);
  assert.equal(muted.status, 200);
  assert.equal(((await muted.json()) as { paused: string[] }).paused.length, 1);
  await ivy.page.waitForFunction(
    () =>
      document.querySelector('[data-testid="toggle-mic"]')?.getAttribute('aria-pressed') ===
      'false',
    undefined,
    { timeout: 10_000 },
  );
  assert.equal((await list())[0]?.mic, 'off');
  // They may unmute themselves.
  await mic.click();
  await ivy.page.waitForFunction(
    () =>
      document.querySelector('[data-testid="toggle-mic"]')?.getAttribute('aria-pressed') === 'true',
    undefined,
    { timeout: 10_000 },
  );

  const removed = await admin('DELETE', `/api/admin/rooms/${room.id}/participants/${me!.id}`);
  assert.equal(removed.status, 204);
  // The same notice as a moderator's removal (issue 11's `removed-notice`).
  const notice = ivy.page.getByTestId('removed-notice');
  await notice.waitFor({ timeout: 10_000 });
  assert.match((await notice.textContent()) ?? '', /removed/i);
  assert.equal(await ivy.page.getByTestId('participant-list').count(), 0);
  assert.deepEqual(await list(), []);
});
