/**
 * Browser e2e: lobby and room membership rules — passwords, capacity, nickname clashes,
 * live lobby updates, deleting a room, rooms surviving a server restart.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';

describe('lobby and rooms in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  const open: Participant[] = [];

  async function person(nickname: string): Promise<Participant> {
    const p = await newParticipant(browser, server.url, nickname, { media: false });
    open.push(p);
    return p;
  }

  async function closeAll(): Promise<void> {
    await Promise.all(open.splice(0).map((p) => p.close()));
  }

  before(async () => {
    // Build the client (if stale) before the server starts serving client/dist.
    browser = await launchBrowser();
    server = await startTestServer();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('a wrong password is refused with a visible error', async () => {
    const owner = await person('Owner');
    await owner.createRoom({ name: 'Locked room', password: 'open sesame' });
    const guest = await person('Guest');
    await guest.joinRoom('Locked room', 'wrong');
    const error = guest.page.getByTestId('error');
    await error.waitFor({ timeout: 10_000 });
    assert.match((await error.textContent()) ?? '', /password/i);
    assert.equal(await guest.page.getByTestId('participant-list').count(), 0);
    // The right password gets in.
    await guest.page.getByTestId('join-password').fill('open sesame');
    await guest.page.getByTestId('join-submit').click();
    await guest.waitInRoom();
    await guest.waitParticipantCount(2);
    await closeAll();
  });

  test('a room of capacity 2 refuses the third person', async () => {
    const a = await person('Ann');
    await a.createRoom({ name: 'Pair room', capacity: 2 });
    const b = await person('Ben');
    await b.joinRoom('Pair room');
    await b.waitInRoom();
    const c = await person('Cat');
    await c.joinRoom('Pair room');
    const error = c.page.getByTestId('error');
    await error.waitFor({ timeout: 10_000 });
    assert.match((await error.textContent()) ?? '', /full/i);
    assert.equal(await c.page.getByTestId('participant-list').count(), 0);
    await closeAll();
  });

  test('a duplicate nickname comes back with digits', async () => {
    const a = await person('Sam');
    await a.createRoom({ name: 'Same names' });
    const b = await person('Sam');
    await b.joinRoom('Same names');
    await b.waitInRoom();
    await b.waitParticipantCount(2);
    const names = (await b.page.getByTestId('participant').allTextContents()).map((t) => t.trim());
    const mine = names.find((n) => n.includes('(you)')) ?? '';
    const other = names.find((n) => !n.includes('(you)')) ?? '';
    assert.match(mine, /Sam[ _-]?\d+ \(you\)/, `second Sam renamed: ${names.join(' | ')}`);
    assert.match(other, /Sam$/, 'first Sam keeps the name');
    await closeAll();
  });

  test('a second lobby sees a new room and its count change without reload', async () => {
    const watcher = await person('Watcher');
    await watcher.openLobby();
    const maker = await person('Maker');
    await maker.createRoom({ name: 'Live room' });
    const item = watcher.page.getByTestId('room-item').filter({ hasText: 'Live room' });
    await item.waitFor({ timeout: 10_000 });
    await waitFor(
      async () =>
        ((await item.getByTestId('room-peers').textContent()) ?? '').trim().startsWith('1'),
      10_000,
      'count 1',
    );
    const joiner = await person('Joiner');
    await joiner.joinRoom('Live room');
    await joiner.waitInRoom();
    await waitFor(
      async () =>
        ((await item.getByTestId('room-peers').textContent()) ?? '').trim().startsWith('2'),
      10_000,
      'count 2 in the other lobby',
    );
    await closeAll();
  });

  test('deleting a room removes it from lobbies and ejects its members', async () => {
    const watcher = await person('Watcher');
    await watcher.openLobby();
    const owner = await person('Boss');
    await owner.createRoom({ name: 'Doomed room' });
    const member = await person('Member');
    await member.joinRoom('Doomed room');
    await member.waitInRoom();
    await member.waitParticipantCount(2);
    // Only the owner has the delete button.
    assert.equal(await member.page.getByTestId('delete-room').count(), 0);
    await watcher.page.getByTestId('room-item').filter({ hasText: 'Doomed room' }).waitFor();
    await owner.page.getByTestId('delete-room').click();
    // The member is sent back to the lobby with a notice.
    await member.page.getByTestId('room-list').waitFor({ timeout: 10_000 });
    await member.page
      .getByTestId('error')
      .filter({ hasText: /deleted/i })
      .waitFor({ timeout: 10_000 });
    await owner.page.getByTestId('room-list').waitFor({ timeout: 10_000 });
    for (const p of [watcher, member, owner]) {
      await waitFor(
        async () =>
          (await p.page.getByTestId('room-item').filter({ hasText: 'Doomed room' }).count()) === 0,
        10_000,
        `${p.nickname}'s lobby drops the room`,
      );
    }
    await closeAll();
  });

  test('rooms survive a server restart', async () => {
    const maker = await person('Keeper');
    await maker.createRoom({ name: 'Durable room' });
    await maker.page.getByTestId('leave-room').click();
    await maker.page.getByTestId('room-item').filter({ hasText: 'Durable room' }).waitFor();
    // Someone stays in the room through the restart.
    const stayer = await person('Stayer');
    await stayer.joinRoom('Durable room');
    await stayer.waitInRoom();

    // Stray browser sockets (pre-connects, keep-alives) must not hold the close up.
    const t0 = Date.now();
    await server.restart();
    assert.ok(Date.now() - t0 < 5000, `restart took ${Date.now() - t0} ms`);

    // A fresh page lists the room and can join it.
    const visitor = await person('Visitor');
    await visitor.openLobby();
    await visitor.page
      .getByTestId('room-item')
      .filter({ hasText: 'Durable room' })
      .waitFor({ timeout: 15_000 });
    // The old lobby tab reconnects and lists it too.
    await maker.page
      .getByTestId('room-item')
      .filter({ hasText: 'Durable room' })
      .waitFor({ timeout: 20_000 });
    // The member who stayed is back in the room by itself.
    await stayer.page
      .getByTestId('system-message')
      .filter({ hasText: 'Reconnected' })
      .waitFor({ timeout: 20_000 });
    await visitor.joinRoom('Durable room');
    await visitor.waitInRoom();
    await visitor.waitParticipantCount(2);
    await stayer.waitParticipantCount(2);
    await closeAll();
  });
});
