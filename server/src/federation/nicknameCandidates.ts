import { dedupNickname } from '../rooms/security.ts';

/**
 * The names to try, in order: the wish (unless `taken` has it), then `count` variants of it
 * with digits appended, none in `taken` (case-insensitive, as the rooms compare).
 */
export function nicknameCandidates(
  wish: string,
  taken: readonly string[],
  count: number,
): string[] {
  const used = [...taken];
  const out: string[] = [];
  for (let i = 0; i <= count; i++) {
    const name = dedupNickname(wish, used);
    out.push(name);
    used.push(name);
  }
  return out;
}
