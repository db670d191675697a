import { ERROR_CODES, TuttiError, type ErrorCode } from '@tutti/protocol';

/** Why a cluster call failed, finer than the protocol code it maps to. */
export type ClusterFailure =
  'TIMEOUT' | 'UNAVAILABLE' | 'UNKNOWN_METHOD' | 'INVALID_REQUEST' | 'INVALID_RESPONSE' | 'REMOTE';

const PROTOCOL_CODE: Record<ClusterFailure, ErrorCode> = {
  TIMEOUT: 'MEDIA_UNAVAILABLE',
  UNAVAILABLE: 'MEDIA_UNAVAILABLE',
  UNKNOWN_METHOD: 'UNKNOWN_METHOD',
  INVALID_REQUEST: 'INVALID_REQUEST',
  INVALID_RESPONSE: 'INTERNAL',
  REMOTE: 'INTERNAL',
};

/**
 * A TuttiError, so signaling turns it into a protoo reject with a stable code as it does any
 * other; `failure` says what went wrong between the nodes (timeout, Redis down, bad answer…).
 */
export class ClusterError extends TuttiError {
  readonly failure: ClusterFailure;
  constructor(failure: ClusterFailure, message: string) {
    super(PROTOCOL_CODE[failure], message);
    this.name = 'ClusterError';
    this.failure = failure;
  }
}

/** Rebuilds the error a remote handler threw: its protocol code survives the trip. */
export function remoteError(code: string, message: string): TuttiError {
  if (code in ERROR_CODES) return new TuttiError(code as ErrorCode, message);
  return new ClusterError('REMOTE', message);
}
