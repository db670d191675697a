import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KoreanDictionary, loadKoreanDictionary } from '../../src/games/dictionary.ts';

test('dictionary-ko: ~32k nouns of two syllables or more, composed, loaded once', async () => {
  const first = loadKoreanDictionary();
  assert.equal(loadKoreanDictionary(), first, 'one load per process');
  const dict = await first;
  assert.ok(dict.size > 30_000 && dict.size < 35_000, `size ${dict.size}`);
  for (const word of ['사과', '기차', '역사', '능력', '자동차', '나무', '노래', '냉면', '대한민국'])
    assert.ok(dict.has(word), word);
});

test('dictionary: no verbs, no single syllables, no 두음-less spellings, no jamo', async () => {
  const dict = await loadKoreanDictionary();
  for (const word of ['먹다', '가다', '예쁘다', '사', '녀자', '력사', '리유', '로인', 'abc', '1루'])
    assert.equal(dict.has(word), false, word);
  // Decomposed input is not in the set as such (callers normalise first).
  assert.equal(dict.has('\u1109\u1161\u1100\u116a'), false);
});

test('dictionary: counts by first syllable; 력 starts no word, 역 does', async () => {
  const dict = await loadKoreanDictionary();
  assert.equal(dict.countStartingWith('력'), 0);
  assert.ok(dict.countStartingWith('역') > 10);
});

test('pick: random word of the asked length, never an excluded one', () => {
  const dict = new KoreanDictionary(['사과', '기차', '자동차', '무지개', '대한민국']);
  let i = 0;
  const seq = [0, 0.99, 0.5];
  const random = () => seq[i++ % seq.length]!;
  for (let n = 0; n < 20; n++) {
    const w = dict.pick({ min: 3, max: 3, random });
    assert.ok(w === '자동차' || w === '무지개', w);
  }
  const always0 = () => 0;
  assert.equal(dict.pick({ min: 2, max: 2, random: always0 }), '사과');
  assert.equal(dict.pick({ min: 2, max: 2, random: always0, exclude: new Set(['사과']) }), '기차');
  assert.throws(() => dict.pick({ min: 6, max: 9, random: always0 }), /no word/);
});
