import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineCharacter, disassembleCompleteCharacter } from 'es-hangul';
import {
  allowedStarts,
  applyDueum,
  initialsOf,
  lastSyllable,
  normalizeWord,
} from '../../src/games/hangul.ts';

test('두음법칙: ㄴ/ㄹ before ㅣ or a y-vowel become ㅇ (녀→여, 력→역, 리→이, 뉴→유 …)', () => {
  const cases: [string, string][] = [
    ['녀', '여'],
    ['뇨', '요'],
    ['뉴', '유'],
    ['니', '이'],
    ['녜', '예'],
    ['력', '역'],
    ['리', '이'],
    ['랴', '야'],
    ['려', '여'],
    ['례', '예'],
    ['료', '요'],
    ['류', '유'],
    ['량', '양'],
    ['림', '임'],
    ['률', '율'],
    ['녕', '영'],
  ];
  for (const [from, to] of cases) assert.equal(applyDueum(from), to, from);
});

test('두음법칙: ㄹ before any other vowel becomes ㄴ (라→나, 로→노, 뢰→뇌, 르→느 …)', () => {
  const cases: [string, string][] = [
    ['라', '나'],
    ['래', '내'],
    ['로', '노'],
    ['뢰', '뇌'],
    ['루', '누'],
    ['르', '느'],
    ['락', '낙'],
    ['랭', '냉'],
    ['론', '논'],
    ['룡', '용'],
    ['릉', '능'],
  ];
  for (const [from, to] of cases) assert.equal(applyDueum(from), to, from);
});

test('두음법칙 leaves other syllables alone (나, 노, 역, 사, non-Hangul)', () => {
  for (const s of ['나', '노', '누', '역', '이', '사', '과', 'a', '1', 'ㄹ', ''])
    assert.equal(applyDueum(s), s, s);
});

test('두음법칙 over every Hangul syllable: only ㄴ/ㄹ initials change, vowel and final kept', () => {
  let changed = 0;
  for (let code = 0xac00; code <= 0xd7a3; code++) {
    const s = String.fromCharCode(code);
    const before = disassembleCompleteCharacter(s)!;
    const after = disassembleCompleteCharacter(applyDueum(s))!;
    assert.equal(after.jungseong, before.jungseong, s);
    assert.equal(after.jongseong, before.jongseong, s);
    if (before.choseong === 'ㄴ' || before.choseong === 'ㄹ') {
      if (after.choseong !== before.choseong) changed++;
      assert.notEqual(after.choseong, 'ㄹ', s);
    } else assert.equal(applyDueum(s), s);
    // es-hangul's parts compose back to the same syllable (the rule relies on it).
    assert.equal(combineCharacter(before.choseong, before.jungseong, before.jongseong), s);
  }
  // ㄹ: all 588 syllables change; ㄴ: 7 of 21 vowels × 28 finals.
  assert.equal(changed, 588 + 7 * 28);
});

test('allowed starts: the 두음 form first, then the syllable itself', () => {
  assert.deepEqual(allowedStarts('능력'), ['역', '력']);
  assert.deepEqual(allowedStarts('고려'), ['여', '려']);
  assert.deepEqual(allowedStarts('사과'), ['과']);
  assert.deepEqual(allowedStarts('노래'), ['내', '래']);
  assert.equal(lastSyllable('자동차'), '차');
});

test('initials and normalisation', () => {
  assert.equal(initialsOf('자동차'), 'ㅈㄷㅊ');
  assert.equal(initialsOf('사과'), 'ㅅㄱ');
  // Decomposed jamo (as dictionary-ko stores words) compose to the same word.
  assert.equal(normalizeWord(' \u1109\u1161\u1100\u116a '), '사과');
});
