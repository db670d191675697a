import type { FrameKind } from './frame.ts';

/** Page → transform worker: the passphrase (again to change it), or the room's new key epoch. */
export type ToWorker =
  | { type: 'passphrase'; roomId: string; passphrase: string }
  | { type: 'epoch'; epoch: number; reset: boolean };

/** Whether a receiver's frames decrypt: no key yet, decrypting, or failing (wrong passphrase). */
export type DecryptState = 'nokey' | 'ok' | 'failing';

/**
 * Transform worker → page: a receiver's decrypt state changed, or the epoch of the frames
 * it opens (null before the first one).
 */
export type FromWorker = {
  type: 'decrypt';
  consumerId: string;
  state: DecryptState;
  epoch: number | null;
};

/** The options of one RTCRtpScriptTransform (structured-cloned into the worker). */
export type TransformOptions =
  | { operation: 'encrypt'; kind: FrameKind; senderId: string }
  | { operation: 'decrypt'; kind: FrameKind; senderId: string; consumerId: string };
