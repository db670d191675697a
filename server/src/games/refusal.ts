import { TuttiError, type ErrorCode } from '@tutti/protocol';
import type { GameRefusal, GameRefusalCode } from './protocol.ts';

/** What every engine call answers: done, or refused with a reason (and nothing changed). */
export type MoveResult = { ok: true } | Refused;
export type Refused = { ok: false; refusal: GameRefusal };

export const accepted: MoveResult = { ok: true };

export function refuse(code: GameRefusalCode, message: string): Refused {
  return { ok: false, refusal: { code, message } };
}

const ERROR_CODE_OF: Record<GameRefusalCode, ErrorCode> = {
  NO_GAME: 'NOT_FOUND',
  GAME_RUNNING: 'INVALID_REQUEST',
  NOT_ENOUGH_PLAYERS: 'INVALID_REQUEST',
  NOT_A_PLAYER: 'FORBIDDEN',
  NOT_YOUR_TURN: 'FORBIDDEN',
  NOT_IN_DICTIONARY: 'INVALID_REQUEST',
  ALREADY_USED: 'INVALID_REQUEST',
  WRONG_START: 'INVALID_REQUEST',
  WRONG_GAME: 'INVALID_REQUEST',
  NOT_DRAWER: 'FORBIDDEN',
  INVALID_STROKE: 'INVALID_REQUEST',
  CANVAS_FULL: 'PAYLOAD_TOO_LARGE',
  RATE_LIMITED: 'RATE_LIMITED',
  NOT_ALLOWED: 'FORBIDDEN',
  BETWEEN_ROUNDS: 'INVALID_REQUEST',
  NOT_RAISED: 'NOT_FOUND',
};

/**
 * The protoo reject for a refusal: reason `FORBIDDEN: NOT_YOUR_TURN: not your turn`, so clients
 * match the stable error code, and the game panel (`game-error`) can show the game's own code
 * and message.
 */
export function refusalError(refusal: GameRefusal): TuttiError {
  return new TuttiError(ERROR_CODE_OF[refusal.code], `${refusal.code}: ${refusal.message}`);
}
