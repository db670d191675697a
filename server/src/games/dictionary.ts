import { firstSyllable, isHangulWord, syllableCount } from './hangul.ts';

/**
 * The Korean nouns the games accept, read from the `dictionary-ko` hunspell files
 * (hunspell-dict-ko): 101,598 entries stored as decomposed jamo, so each is composed with
 * NFC. Flags are numeric aliases (`AF` lines in the .aff); an entry is a noun (or pronoun,
 * numeral) when its flags include 530, the subject particle 이 (its twin 532 is 가): ~32.6k
 * all-Hangul words of two syllables or more (32.4k of 2–5 syllables). Single syllables, digits
 * and Latin letters are left out.
 */

/** Affix flag: takes the subject particle 이 after a final consonant (noun-like entries). */
export const NOUN_FLAG = 530;

/** What the engines need of a word list. */
export interface WordList {
  readonly size: number;
  has(word: string): boolean;
  /** How many words start with this syllable (a 끝말잇기 dead end when 0). */
  countStartingWith(syllable: string): number;
  /** The words starting with this syllable (hints, bots). */
  startingWith(syllable: string): readonly string[];
  /** A random word of `min`..`max` syllables that is not in `exclude`. */
  pick(opts: {
    min: number;
    max: number;
    random: () => number;
    exclude?: ReadonlySet<string>;
  }): string;
}

export class KoreanDictionary implements WordList {
  readonly #words: Set<string>;
  readonly #bySyllables = new Map<number, string[]>();
  readonly #byFirst = new Map<string, string[]>();

  constructor(words: Iterable<string>) {
    this.#words = new Set(words);
    for (const word of this.#words) {
      const n = syllableCount(word);
      let bucket = this.#bySyllables.get(n);
      if (!bucket) this.#bySyllables.set(n, (bucket = []));
      bucket.push(word);
      const first = firstSyllable(word);
      let same = this.#byFirst.get(first);
      if (!same) this.#byFirst.set(first, (same = []));
      same.push(word);
    }
  }

  get size(): number {
    return this.#words.size;
  }

  has(word: string): boolean {
    return this.#words.has(word);
  }

  countStartingWith(syllable: string): number {
    return this.startingWith(syllable).length;
  }

  startingWith(syllable: string): readonly string[] {
    return this.#byFirst.get(syllable) ?? [];
  }

  pick(opts: {
    min: number;
    max: number;
    random: () => number;
    exclude?: ReadonlySet<string>;
  }): string {
    const buckets: string[][] = [];
    for (let n = opts.min; n <= opts.max; n++) {
      const bucket = this.#bySyllables.get(n);
      if (bucket) buckets.push(bucket);
    }
    const total = buckets.reduce((sum, b) => sum + b.length, 0);
    if (total === 0) throw new Error(`no word of ${opts.min}–${opts.max} syllables`);
    // Random tries first; the exclude set is tiny next to the list, so this almost never loops.
    for (let attempt = 0; attempt < 32; attempt++) {
      const word = wordAt(buckets, Math.floor(opts.random() * total));
      if (!opts.exclude?.has(word)) return word;
    }
    for (const bucket of buckets)
      for (const word of bucket) if (!opts.exclude?.has(word)) return word;
    throw new Error('every word is excluded');
  }
}

function wordAt(buckets: string[][], index: number): string {
  let i = index;
  for (const bucket of buckets) {
    if (i < bucket.length) return bucket[i]!;
    i -= bucket.length;
  }
  return buckets.at(-1)!.at(-1)!;
}

/** Noun entries of a hunspell-dict-ko .aff/.dic pair, composed (NFC), Hangul only, ≥ 2 syllables. */
export function parseKoreanNouns(aff: Uint8Array, dic: Uint8Array): string[] {
  const aliases = readFlagAliases(aff);
  const nouns: string[] = [];
  const lines = new TextDecoder().decode(dic).split('\n');
  // The first line is the entry count.
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const slash = line.indexOf('/');
    if (slash < 0) continue;
    const flags = aliases[Number(line.slice(slash + 1))];
    if (!flags?.has(NOUN_FLAG)) continue;
    const word = line.slice(0, slash).normalize('NFC');
    if (isHangulWord(word) && syllableCount(word) >= 2) nouns.push(word);
  }
  return nouns;
}

/**
 * The `AF` table: `AF <count>` then one `AF f1,f2,…` line per alias; a .dic entry's `/n`
 * means alias n (1-based). Only that block is decoded: the .aff is 11 MB of suffix rules.
 */
function readFlagAliases(aff: Uint8Array): (Set<number> | undefined)[] {
  const bytes = Buffer.from(aff.buffer, aff.byteOffset, aff.byteLength);
  const start = bytes.indexOf('\nAF ');
  if (start < 0) throw new Error('dictionary-ko: no AF table in the .aff file');
  let end = start + 1;
  while (bytes.subarray(end, end + 3).toString('latin1') === 'AF ') {
    const next = bytes.indexOf('\n', end);
    end = next < 0 ? bytes.length : next + 1;
  }
  const lines = bytes
    .subarray(start + 1, end)
    .toString('latin1')
    .trim()
    .split('\n');
  const aliases: (Set<number> | undefined)[] = [undefined];
  for (const line of lines.slice(1)) aliases.push(new Set(line.slice(3).split(',').map(Number)));
  return aliases;
}

let loading: Promise<KoreanDictionary> | undefined;

/** The dictionary, read once per process on first use (~0.3 s), shared by every room. */
export function loadKoreanDictionary(): Promise<KoreanDictionary> {
  loading ??= import('dictionary-ko')
    .then(({ default: files }) => new KoreanDictionary(parseKoreanNouns(files.aff, files.dic)))
    .catch((err: unknown) => {
      loading = undefined; // a later call tries again
      throw err;
    });
  return loading;
}
