/**
 * Stable error codes. protoo carries a numeric code and a reason string; the reason is
 * always `${ErrorCode}: human text`, so clients (and tests) match on the code prefix.
 */
export const ERROR_CODES = {
  INVALID_REQUEST: 400,
  /** A social login refused: state mismatch, replayed code, wrong issuer, provider error. */
  LOGIN_FAILED: 400,
  /** Not a failure: the join is parked in the waiting room until a moderator admits it. */
  WAITING: 202,
  UNAUTHORIZED: 401,
  /** A "signed-in only" room, or auth.guests off, and the connection has no session (or token). */
  SIGN_IN_REQUIRED: 401,
  BAD_PASSWORD: 401,
  /** Account login: unknown email or wrong password (never says which). */
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  /** Removed from this room and barred from coming back. */
  BANNED: 403,
  NOT_JOINED: 403,
  ROOM_NOT_FOUND: 404,
  NOT_FOUND: 404,
  /** session.resume: the token is unknown, spent or expired, or its membership ended; join again. */
  RESUME_FAILED: 410,
  UNKNOWN_METHOD: 405,
  ROOM_NAME_TAKEN: 409,
  ROOM_FULL: 409,
  ALREADY_JOINED: 409,
  EMAIL_TAKEN: 409,
  PAYLOAD_TOO_LARGE: 413,
  /** A moderator locked the room: no new joins. */
  ROOM_LOCKED: 423,
  UNSUPPORTED_TYPE: 415,
  RATE_LIMITED: 429,
  TOO_MANY_ATTEMPTS: 429,
  INTERNAL: 500,
  MEDIA_UNAVAILABLE: 503,
  /** The node is draining (SIGTERM): it takes no new peers; connect again (another node). */
  DRAINING: 503,
  /** A backing service (Redis, S3) failed or did not answer in time: try again shortly. */
  UNAVAILABLE: 503,
  /** The database (PostgreSQL) did not answer in time or is down; nothing was changed. */
  STORE_UNAVAILABLE: 503,
  /** A chat message could not reach the room (the bus failed); it was withdrawn, send it again. */
  NOT_DELIVERED: 503,
  /** Client side: a request got no answer in time (ProtocolClient). */
  TIMEOUT: 504,
  // Join tokens and API keys (issue #11, docs/admin-api.md)
  /** The join token is malformed or its signature does not match (tampered). */
  TOKEN_INVALID: 401,
  /** The join token's `exp` has passed: ask the backend for a new one. */
  TOKEN_EXPIRED: 401,
  /** The join token names an API key that does not exist or was revoked. */
  TOKEN_KEY_UNKNOWN: 401,
  /** The join token is for another room. */
  TOKEN_WRONG_ROOM: 403,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Thrown by server code; the signaling layer turns it into a protoo reject / HTTP status. */
export class TuttiError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'TuttiError';
    this.code = code;
  }
  get status(): number {
    return ERROR_CODES[this.code];
  }
  /** The protoo errorReason / HTTP error body text. */
  get reason(): string {
    return `${this.code}: ${this.message}`;
  }
}

/** Reads the stable code back from an error a protoo request (or HTTP call) rejected with. */
export function errorCodeOf(err: unknown): ErrorCode | undefined {
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : '';
  const m = /^([A-Z_]+):/.exec(text);
  return m && m[1]! in ERROR_CODES ? (m[1] as ErrorCode) : undefined;
}

/** The human part of an error reason, without the code prefix. */
export function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/^[A-Z_]+:\s*/, '');
}
