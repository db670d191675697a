/**
 * Browser e2e: the owner's room settings — rename the room and set a password; the other
 * member's title follows (`room.updated`), a lobby shows the new name and the lock, and a
 * bad value is refused with a readable error in the panel.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';

describe('owner room settings in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  const open: Participant[] = [];

  async function person(nickname: string): Promise<Participant> {
    const p = await newParticipant(browser, server.url, nickname, { media: false });
    open.push(p);
    return p;
  }

  before(async () => {
    // Build the client (if stale) before the server starts serving client/dist.
    browser = await launchBrowser();
    server = await startTestServer();
  });

  after(async () => {
    await Promise.all(open.splice(0).map((p) => p.close()));
    await browser?.close();
    await server?.stop();
  });

  test('the owner renames the room and sets a password', async () => {
    const owner = await person('Olga');
    await owner.createRoom({ name: 'Before rename', capacity: 5 });
    const member = await person('Max');
    await member.joinRoom('Before rename');
    await member.waitInRoom();
    await member.waitParticipantCount(2);
    const watcher = await person('Wes');
    await watcher.openLobby();
    await watcher.page.getByTestId('room-item').filter({ hasText: 'Before rename' }).waitFor();

    // Only the owner has the settings button.
    assert.equal(await member.page.getByTestId('room-settings').count(), 0);

    const o = owner.page;
    await o.getByTestId('room-settings').click();
    assert.equal(await o.getByTestId('settings-name').inputValue(), 'Before rename');
    assert.equal(await o.getByTestId('settings-capacity').inputValue(), '5');

    // A bad capacity is refused in the panel, nothing is sent.
    await o.getByTestId('settings-capacity').fill('1');
    await o.getByTestId('settings-save').click();
    const error = o.getByTestId('settings-error');
    await error.waitFor({ timeout: 5_000 });
    assert.match((await error.textContent()) ?? '', /capacity/i);

    await o.getByTestId('settings-name').fill('After rename');
    await o.getByTestId('settings-password').fill('s3cret pass');
    await o.getByTestId('settings-capacity').fill('');
    await o.getByTestId('settings-save').click();
    await o.getByTestId('settings-name').waitFor({ state: 'detached', timeout: 10_000 });

    for (const p of [owner, member]) {
      await waitFor(
        async () =>
          (await p.page.getByTestId('room-title').textContent())?.trim() === 'After rename',
        10_000,
        `${p.nickname} sees the new name`,
      );
      await p.page.getByTestId('room-locked').waitFor({ timeout: 10_000 });
    }

    const item = watcher.page.getByTestId('room-item').filter({ hasText: 'After rename' });
    await item.waitFor({ timeout: 10_000 });
    assert.equal(await item.getAttribute('data-locked'), 'true');
    await item.getByTestId('room-locked').waitFor();
    assert.equal(
      await watcher.page.getByTestId('room-item').filter({ hasText: 'Before rename' }).count(),
      0,
    );
    // No capacity any more.
    assert.equal((await item.getByTestId('room-peers').textContent())?.includes('/'), false);

    // The password is enforced: a wrong one is refused, the new one gets in.
    await watcher.joinRoom('After rename', 'wrong');
    await watcher.page.getByTestId('error').waitFor({ timeout: 10_000 });
    await watcher.page.getByTestId('join-password').fill('s3cret pass');
    await watcher.page.getByTestId('join-submit').click();
    await watcher.waitInRoom();
    await watcher.waitParticipantCount(3);

    // Removing the password unlocks the room for everyone.
    await o.getByTestId('room-settings').click();
    await o.getByTestId('settings-remove-password').check();
    await o.getByTestId('settings-save').click();
    await waitFor(
      async () => (await member.page.getByTestId('room-locked').count()) === 0,
      10_000,
      'the member sees the room unlocked',
    );
  });

  test('a shared link joins an open room by itself and asks for a locked one’s password', async () => {
    const owner = await person('Lina');
    await owner.createRoom({ name: 'Linked room' });
    const link = owner.page.url();
    assert.match(link, /#\/room\//);

    const guest = await person('Gus');
    await guest.openLobby();
    await guest.page.evaluate(() => localStorage.setItem('tutti.nickname', 'Gus'));
    await guest.page.goto(link);
    await guest.page.reload();
    await guest.waitInRoom();
    await guest.waitParticipantCount(2);

    await owner.page.getByTestId('room-settings').click();
    await owner.page.getByTestId('settings-password').fill('linked pass');
    await owner.page.getByTestId('settings-save').click();
    await owner.page.getByTestId('room-locked').waitFor({ timeout: 10_000 });

    const late = await person('Liv');
    await late.openLobby();
    await late.page.evaluate(() => localStorage.setItem('tutti.nickname', 'Liv'));
    await late.page.goto(link);
    await late.page.reload();
    await late.page.getByTestId('join-password').waitFor({ timeout: 10_000 });
    assert.equal(await late.page.getByTestId('participant-list').count(), 0);
    await late.page.getByTestId('join-password').fill('linked pass');
    await late.page.getByTestId('join-submit').click();
    await late.waitInRoom();
    await late.waitParticipantCount(3);
  });
});
