import { combineCharacter, disassembleCompleteCharacter, getChoseong } from 'es-hangul';

/**
 * Korean text rules the games share. 두음법칙 (한글 맞춤법 제10–12항) is written from the jamo:
 * a syllable opening with ㄴ or ㄹ before ㅣ or a y-vowel (ㅑ ㅒ ㅕ ㅖ ㅛ ㅠ) opens with ㅇ
 * instead (녀→여, 력→역, 리→이, 뉴→유); ㄹ before any other vowel becomes ㄴ (라→나, 로→노,
 * 뢰→뇌, 르→느). The final consonant is kept.
 */

/** es-hangul spells ㅣ and the y-vowels as single jamo (compound vowels come decomposed). */
const I_OR_Y_VOWELS = new Set(['ㅣ', 'ㅑ', 'ㅒ', 'ㅕ', 'ㅖ', 'ㅛ', 'ㅠ']);

/** The syllable as it is written at the start of a word (unchanged when the rule does not apply). */
export function applyDueum(syllable: string): string {
  const parts = disassembleCompleteCharacter(syllable);
  if (!parts) return syllable;
  const { choseong, jungseong, jongseong } = parts;
  const iOrY = I_OR_Y_VOWELS.has(jungseong);
  let initial: string = choseong;
  if (choseong === 'ㄴ' && iOrY) initial = 'ㅇ';
  else if (choseong === 'ㄹ') initial = iOrY ? 'ㅇ' : 'ㄴ';
  return initial === choseong ? syllable : combineCharacter(initial, jungseong, jongseong);
}

/**
 * The syllables a word may start with to follow `previous`: its last syllable, and the
 * 두음법칙 form of it first when that differs ("역 or 력").
 */
export function allowedStarts(previous: string): string[] {
  const last = lastSyllable(previous);
  const dueum = applyDueum(last);
  return dueum === last ? [last] : [dueum, last];
}

export function lastSyllable(word: string): string {
  return Array.from(word).at(-1) ?? '';
}

export function firstSyllable(word: string): string {
  return Array.from(word)[0] ?? '';
}

/** What a player typed, as the dictionary stores it: trimmed, composed (NFC). */
export function normalizeWord(text: string): string {
  return text.normalize('NFC').trim();
}

const COMPLETE_HANGUL = /^[가-힣]+$/;

export function isHangulWord(text: string): boolean {
  return COMPLETE_HANGUL.test(text);
}

/** 초성 of a word: 자동차 → ㅈㄷㅊ. */
export function initialsOf(word: string): string {
  return getChoseong(word);
}

export function syllableCount(word: string): number {
  return Array.from(word).length;
}
