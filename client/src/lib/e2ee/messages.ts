import type { FrameKind } from './frame.ts';

/** Page → transform worker. */
export type ToWorker = { type: 'passphrase'; roomId: string; passphrase: string };

/** Whether a receiver's frames decrypt: no key yet, decrypting, or failing (wrong passphrase). */
export type DecryptState = 'nokey' | 'ok' | 'failing';

/** Transform worker → page: a receiver's decrypt state changed. */
export type FromWorker = { type: 'decrypt'; consumerId: string; state: DecryptState };

/** The options of one RTCRtpScriptTransform (structured-cloned into the worker). */
export type TransformOptions =
  | { operation: 'encrypt'; kind: FrameKind; senderId: string }
  | { operation: 'decrypt'; kind: FrameKind; senderId: string; consumerId: string };
