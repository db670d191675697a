/**
 * Characters that never belong in a name other people see: C0/C1 controls, zero-width and
 * directional marks, bidi embeddings/overrides/isolates and the BOM. A right-to-left
 * override turns "ali\u202Eecilab" into what reads as "alibalice"; controls beep or break
 * layouts. The same set server/src/files/filename.ts strips from file names. Letters of
 * right-to-left scripts are untouched (the browser lays them out by itself).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** NFC-normalises and removes control/bidi/invisible characters; whitespace runs become one space. */
export function stripUnsafeText(text: string): string {
  return text.normalize('NFC').replace(UNSAFE, '').replace(/\s+/g, ' ');
}
