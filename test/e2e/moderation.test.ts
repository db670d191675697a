/**
 * Browser e2e: moderation (issue 11). The owner mutes a participant (their page says so,
 * the owner's list shows the mic off) and removes them (their page says so); a
 * participant's moderation attempt is refused; the waiting room admits one person and
 * denies another. At most two pages at a time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';

describe('moderation in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  const open: Participant[] = [];

  async function person(nickname: string, media = false): Promise<Participant> {
    const p = await newParticipant(browser, server.url, nickname, { media });
    open.push(p);
    return p;
  }
  const closeAll = () => Promise.all(open.splice(0).map((p) => p.close()));
  const entry = (p: Participant, nickname: string) =>
    p.page.getByTestId('participant').filter({ hasText: nickname });

  before(async () => {
    browser = await launchBrowser();
    server = await startTestServer();
  });
  after(async () => {
    await closeAll();
    await browser?.close();
    await server?.stop();
  });

  test('the owner mutes a participant, then removes them; a participant cannot moderate', async () => {
    const owner = await person('Olga');
    await owner.createRoom({ name: 'Moderated' });
    const pat = await person('Pat', true);
    await pat.joinRoom('Moderated');
    await pat.waitInRoom();
    await pat.waitParticipantCount(2);

    // The participant has no menu, and a forged attempt is refused by the server.
    assert.equal(await pat.page.getByTestId('participant-menu').count(), 0);
    assert.equal(await pat.page.getByTestId('lock-room').count(), 0);
    const ownerId = await owner.page.evaluate(() => window.__tutti!.selfId());
    await pat.page.evaluate((id) => window.__tutti!.tryMute(id), ownerId);
    const refusal = pat.page.getByTestId('error');
    await refusal.waitFor({ timeout: 10_000 });
    assert.match((await refusal.textContent()) ?? '', /owner or a moderator/);

    // Pat's mic is on, as the owner sees it.
    const patAtOwner = entry(owner, 'Pat');
    await waitFor(
      async () => (await patAtOwner.getAttribute('data-mic')) === 'on',
      20_000,
      'Pat mic on',
    );
    await patAtOwner.getByTestId('participant-menu').click();
    await owner.page.getByTestId('mute-participant').click();
    await pat.page.getByTestId('muted-by-moderator-notice').waitFor({ timeout: 10_000 });
    assert.match(
      (await pat.page.getByTestId('muted-by-moderator-notice').textContent()) ?? '',
      /Olga muted your microphone/,
    );
    await waitFor(
      async () => (await patAtOwner.getAttribute('data-mic')) === 'off',
      10_000,
      'owner sees Pat muted',
    );
    await waitFor(
      () => pat.page.evaluate(() => window.__tutti!.producerPaused('mic') === true),
      10_000,
      "Pat's own mic paused",
    );
    assert.match((await pat.page.getByTestId('toggle-mic').textContent()) ?? '', /Unmute/);
    // "Moderators unmute" is off: Pat may unmute.
    await pat.page.getByTestId('toggle-mic').click();
    await waitFor(
      async () => (await patAtOwner.getAttribute('data-mic')) === 'on',
      10_000,
      'Pat unmuted',
    );

    await patAtOwner.getByTestId('participant-menu').click();
    await owner.page.getByTestId('remove-participant').click();
    const removed = pat.page.getByTestId('removed-notice');
    await removed.waitFor({ timeout: 10_000 });
    assert.match((await removed.textContent()) ?? '', /Olga removed you/);
    assert.equal(await pat.page.getByTestId('participant-list').count(), 0, 'back in the lobby');
    await owner.waitParticipantCount(1);
    await closeAll();
  });

  test('the waiting room admits one person and denies another', async () => {
    const owner = await person('Olga');
    await owner.createRoom({ name: 'Lobby room' });
    await owner.page.getByTestId('waiting-room-toggle').click();
    await waitFor(
      async () =>
        (await owner.page.getByTestId('waiting-room-toggle').getAttribute('aria-pressed')) ===
        'true',
      10_000,
      'waiting room on',
    );

    const ann = await person('Ann');
    await ann.joinRoom('Lobby room');
    await ann.page.getByTestId('waiting-notice').waitFor({ timeout: 10_000 });
    const annWaiting = owner.page.getByTestId('waiting-person').filter({ hasText: 'Ann' });
    await annWaiting.waitFor({ timeout: 10_000 });
    await annWaiting.getByTestId('admit').click();
    await ann.waitInRoom();
    await ann.waitParticipantCount(2);
    await owner.waitParticipantCount(2);
    await ann.close();
    open.splice(open.indexOf(ann), 1);
    await owner.waitParticipantCount(1);

    const ben = await person('Ben');
    await ben.joinRoom('Lobby room');
    await ben.page.getByTestId('waiting-notice').waitFor({ timeout: 10_000 });
    const benWaiting = owner.page.getByTestId('waiting-person').filter({ hasText: 'Ben' });
    await benWaiting.getByTestId('deny').click();
    await ben.page.getByTestId('denied-notice').waitFor({ timeout: 10_000 });
    assert.equal(await ben.page.getByTestId('participant-list').count(), 0);
    assert.equal(await owner.page.getByTestId('waiting-person').count(), 0);
    assert.equal(await owner.participantCount(), 1);
    await ben.close();
    open.splice(open.indexOf(ben), 1);

    // Locked: nobody new gets in (not even to the waiting room); ending the meeting empties it.
    await owner.page.getByTestId('lock-room').click();
    await waitFor(
      async () =>
        (await owner.page.getByTestId('lock-room').getAttribute('aria-pressed')) === 'true',
      10_000,
      'room locked',
    );
    const cy = await person('Cy');
    await cy.joinRoom('Lobby room');
    const locked = cy.page.getByTestId('error');
    await locked.waitFor({ timeout: 10_000 });
    assert.match((await locked.textContent()) ?? '', /locked/i);
    await owner.page.getByTestId('end-meeting').click();
    await owner.page.getByTestId('ended-notice').waitFor({ timeout: 10_000 });
    await closeAll();
  });
});
