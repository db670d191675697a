/**
 * Browser e2e, issue 14: reactions float over the sender's tile for the others, raised hands
 * queue in order for everyone, and three pages play a round of each game (끝말잇기 with words
 * from the dictionary module, 초성 solved in the chat, CatchMind drawn with the mouse and
 * guessed in the chat). No camera or microphone (CPU).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import dictionaryFiles from 'dictionary-ko';
import type { Browser, Page } from 'playwright-core';
import { loadKoreanDictionary, parseKoreanNouns } from '../../server/src/games/dictionary.ts';
import { initialsOf } from '../../server/src/games/hangul.ts';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { launchBrowser, newParticipant, waitFor, type Participant } from '../helpers/browser.ts';

const ROOM = 'Game night';

describe('room life between three browsers', () => {
  let server: TestServer;
  let browser: Browser;
  let ann: Participant;
  let ben: Participant;
  let cy: Participant;
  let all: Participant[];
  const ids = new Map<Participant, string>();

  const selfId = (page: Page) => page.evaluate(() => window.__tutti!.selfId());
  const sendChat = async (p: Participant, text: string) => {
    await p.page.getByTestId('chat-input').fill(text);
    await p.page.getByTestId('chat-send').click();
    await waitFor(async () => (await p.page.getByTestId('chat-input').inputValue()) === '', 5000);
  };
  const scoreOf = (p: Participant, of: Participant) =>
    p.page
      .getByTestId('game-score')
      .locator(`[data-player-id="${ids.get(of)}"]`)
      .getAttribute('data-score', { timeout: 2000 });
  const start = async (p: Participant, kind: string) => {
    await p.page.getByTestId('game-menu').getByTestId(`game-start-${kind}`).click();
    for (const q of all) {
      await q.page.locator(`[data-testid="game-panel"][data-kind="${kind}"]`).waitFor();
    }
  };
  const stop = async (p: Participant) => {
    await p.page.getByTestId('game-stop').click();
    for (const q of all) await q.page.getByTestId('game-panel').waitFor({ state: 'detached' });
  };

  before(async () => {
    browser = await launchBrowser();
    server = await startTestServer({ chat: { ratePerSecond: 50, burst: 100 } });
    ann = await newParticipant(browser, server.url, 'Ann', { media: false });
    ben = await newParticipant(browser, server.url, 'Ben', { media: false });
    cy = await newParticipant(browser, server.url, 'Cy', { media: false });
    all = [ann, ben, cy];
    await ann.createRoom({ name: ROOM });
    await ben.joinRoom(ROOM);
    await cy.joinRoom(ROOM);
    for (const p of all) await p.waitParticipantCount(3);
    for (const p of all) ids.set(p, await selfId(p.page));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test("a reaction floats over the sender's tile on the others' pages", async () => {
    await ann.page.getByTestId('reaction-button').click();
    await ann.page.locator('[data-emoji="🎉"]').click();
    for (const p of [ben, cy]) {
      const reaction = p.page.locator(
        `[data-testid="tile"][data-peer-id="${ids.get(ann)}"] [data-testid="reaction"]`,
      );
      await reaction.first().waitFor({ timeout: 5000 });
      assert.equal(await reaction.first().textContent(), '🎉');
    }
  });

  test('raised hands show for everyone, in order', async () => {
    await ben.page.getByTestId('raise-hand').click();
    await waitFor(() => cy.page.getByTestId('hand-queue').isVisible(), 5000, 'queue at Cy');
    await cy.page.getByTestId('raise-hand').click();
    const order = [ids.get(ben), ids.get(cy)];
    for (const p of all) {
      await waitFor(
        async () => {
          const queue = p.page.getByTestId('hand-queue').locator('li');
          const shown = await queue.evaluateAll((li) => li.map((e) => e.dataset.peerId));
          return JSON.stringify(shown) === JSON.stringify(order);
        },
        5000,
        `hand queue at ${p.nickname}`,
      );
      assert.equal(await p.page.getByTestId('hand-raised').count(), 2);
    }
    await ben.page.getByTestId('raise-hand').click();
    await cy.page.getByTestId('raise-hand').click();
    for (const p of all) await p.page.getByTestId('hand-queue').waitFor({ state: 'detached' });
  });

  test('끝말잇기: three pages chain dictionary words; a bad word shows its reason', async () => {
    const dict = await loadKoreanDictionary();
    await start(ann, 'wordchain');
    const used = new Set<string>();
    for (let turn = 0; turn < 3; turn++) {
      const player = await waitFor(async () => {
        for (const p of all) {
          const panel = p.page.getByTestId('game-panel');
          if ((await panel.getAttribute('data-my-turn')) === 'true') return p;
        }
        return undefined;
      }, 5000);
      assert.equal(player, all[turn], 'turns follow join order from the starter');
      const panel = player.page.getByTestId('game-panel');
      const starts = (await panel.getAttribute('data-starts-with'))!.split(',').filter(Boolean);
      const pool = starts.length ? starts.flatMap((s) => dict.startingWith(s)) : ['기차'];
      const word = pool.find((w) => !used.has(w))!;
      if (turn === 1) {
        await player.page.getByTestId('game-input').fill('쀍쀍');
        await player.page.getByTestId('game-submit').click();
        const error = player.page.getByTestId('game-error');
        await error.waitFor({ timeout: 5000 });
        assert.match((await error.textContent()) ?? '', /must start with|not in the dictionary/);
      }
      await player.page.getByTestId('game-input').fill(word);
      await player.page.getByTestId('game-submit').click();
      used.add(word);
      for (const p of all) {
        await waitFor(
          async () =>
            (await p.page.getByTestId('game-panel').getAttribute('data-last-word')) === word,
          5000,
          `${word} at ${p.nickname}`,
        );
      }
    }
    assert.equal(await scoreOf(ben, ann), '1');
    await stop(ann);
  });

  test('초성: the initials show, a guess in the chat scores for everyone', async () => {
    const nouns = parseKoreanNouns(dictionaryFiles.aff, dictionaryFiles.dic);
    await start(ben, 'choseong');
    const initials = (await ann.page.getByTestId('game-initials').textContent())!.trim();
    for (const p of all)
      assert.equal(await p.page.getByTestId('game-initials').textContent(), initials);
    const candidates = nouns.filter((w) => initialsOf(w) === initials);
    let solved = false;
    const line = cy.page.getByTestId('game-line');
    for (const word of candidates) {
      await sendChat(cy, word);
      // The solved notification reaches Cy before the answer to chat.send.
      solved = (await line.count()) > 0 && ((await line.textContent()) ?? '').includes('solved');
      if (solved) break;
    }
    assert.ok(solved, `one of ${candidates.length} nouns for ${initials} solves it`);
    for (const p of all) {
      await waitFor(
        async () => (await scoreOf(p, cy)) === '1',
        5000,
        `Cy's point at ${p.nickname}`,
      );
    }
    await stop(ben);
  });

  test('CatchMind: the drawer alone sees the word, strokes reach the others, a chat guess scores', async () => {
    await start(cy, 'catchmind');
    const wordEl = cy.page.getByTestId('game-word');
    await wordEl.waitFor({ timeout: 5000 });
    const word = (await wordEl.textContent())!.trim();
    for (const p of [ann, ben]) assert.equal(await p.page.getByTestId('game-word').count(), 0);

    const canvas = cy.page.getByTestId('game-canvas');
    const box = (await canvas.boundingBox())!;
    await cy.page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.2);
    await cy.page.mouse.down();
    for (let i = 1; i <= 10; i++) {
      await cy.page.mouse.move(box.x + box.width * (0.2 + i * 0.05), box.y + box.height * 0.5, {
        steps: 2,
      });
    }
    await cy.page.mouse.up();
    for (const p of [ann, ben]) {
      await waitFor(
        async () =>
          Number(await p.page.getByTestId('game-canvas').getAttribute('data-strokes')) >= 1,
        5000,
        `strokes at ${p.nickname}`,
      );
    }

    await sendChat(ann, word);
    for (const p of all) {
      await waitFor(
        async () => (await scoreOf(p, ann)) === '1',
        5000,
        `Ann's point at ${p.nickname}`,
      );
      assert.equal(await scoreOf(p, cy), '1', 'the drawer scores too');
    }
    await stop(cy);
  });
});
