import type { GameEvent } from './protocol.ts';

/**
 * The port a game talks to its room through. Signaling implements it per room (broadcast →
 * every member's MemberChannel, send → one member); tests implement it with a recording host
 * and a manual clock, so timers fire instantly and deterministically.
 */
export interface GameHost {
  /** To every member of the room (players and spectators). */
  broadcast(event: GameEvent): void;
  /** To one member, by the stable member id the caller gave (no-op when they are away). */
  send(memberId: string, event: GameEvent): void;
  /** Milliseconds since the epoch (deadlines sent to clients are in this clock). */
  now(): number;
  /** Runs `fn` once after `delayMs`; the returned function cancels it. */
  schedule(delayMs: number, fn: () => void): () => void;
}

/** Wall clock and setTimeout, for a real room. Timers are unref'd: they never hold the process. */
export const systemClock: Pick<GameHost, 'now' | 'schedule'> = {
  now: () => Date.now(),
  schedule(delayMs, fn) {
    const timer = setTimeout(fn, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
};
