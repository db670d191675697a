import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';

/**
 * The quiz's answer of `round` as the room's life holder keeps it in Redis (under
 * `<prefix>life:<room>:state`), saved a moment after the members are told (the saver
 * coalesces): read again every 50 ms; fails after `tries` reads that do not have it.
 */
export async function savedQuizAnswer(
  redis: Redis,
  redisPrefix: string,
  roomId: string,
  round: number,
  tries: number,
): Promise<string> {
  for (let tried = 0; ; tried++) {
    const text = await redis.get(`${redisPrefix}life:${roomId}:state`);
    type Saved = { game: { round: number; answer: string | null } | null };
    const game = text ? (JSON.parse(text) as Saved).game : null;
    if (game?.round === round && game.answer) return game.answer;
    assert.ok(
      tried < tries,
      `round ${round} saved (saw ${text ? (game?.round ?? 'no game') : 'nothing'})`,
    );
    await new Promise((r) => setTimeout(r, 50));
  }
}
