/** Final caption lines kept per room for `captions.save` (older ones drop out). */
const MAX_LINES = 500;

export interface TranscriptLine {
  nickname: string;
  text: string;
}

/** A room's transcript: what was said since captions were first turned on. */
export class Transcript {
  readonly #lines: TranscriptLine[] = [];

  add(line: TranscriptLine): void {
    this.#lines.push(line);
    if (this.#lines.length > MAX_LINES) this.#lines.shift();
  }

  /**
   * One chat message of the newest lines that fit in `maxLength` characters, oldest first,
   * under a heading; null when nothing was said.
   */
  message(maxLength: number): { text: string; lines: number } | null {
    const heading = 'Transcript (live captions):';
    let length = [...heading].length;
    const picked: string[] = [];
    for (let i = this.#lines.length - 1; i >= 0; i--) {
      const line = this.#lines[i]!;
      const text = `${line.nickname}: ${line.text}`;
      const cost = [...text].length + 1;
      if (length + cost > maxLength) break;
      length += cost;
      picked.unshift(text);
    }
    if (picked.length === 0) return null;
    return { text: [heading, ...picked].join('\n'), lines: picked.length };
  }
}
