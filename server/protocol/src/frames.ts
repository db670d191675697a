/**
 * The protoo wire format, once: every WebSocket text frame is one of these JSON objects.
 * protoo pairs a response with its request by `id`; notifications have no answer.
 */

export interface RequestFrame {
  request: true;
  id: number;
  method: string;
  data: unknown;
}

export interface SuccessResponseFrame {
  response: true;
  id: number;
  ok: true;
  data: unknown;
}

export interface ErrorResponseFrame {
  response: true;
  id: number;
  ok: false;
  /** protoo carries a number; a frame from an untrusted peer may carry anything. */
  errorCode: unknown;
  /** Always `${ErrorCode}: human text` from Tutti (see errors.ts). */
  errorReason: string;
}

export type ResponseFrame = SuccessResponseFrame | ErrorResponseFrame;

export interface NotificationFrame {
  notification: true;
  method: string;
  data: unknown;
}

export type ProtooFrame = RequestFrame | ResponseFrame | NotificationFrame;

/** A response without its id: what a request handler decides, before it is sent. */
export type Answer =
  { ok: true; data: object } | { ok: false; errorCode: number; errorReason: string };

/** Longest method name a frame may carry. */
export const MAX_METHOD_LENGTH = 128;

/**
 * Parses one text frame into a protoo frame, or returns why it was rejected. Never throws.
 * Stricter than protoo's Message.parse: ids must be safe integers, methods bounded strings;
 * a missing or null `data` becomes `{}`.
 */
export function parseFrame(text: string): ProtooFrame | string {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return 'invalid JSON';
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return 'not an object';
  const o = obj as Record<string, unknown>;
  const id = typeof o.id === 'number' && Number.isSafeInteger(o.id) ? o.id : undefined;
  const method =
    typeof o.method === 'string' && o.method.length > 0 && o.method.length <= MAX_METHOD_LENGTH
      ? o.method
      : undefined;
  const data = o.data === undefined || o.data === null ? {} : o.data;
  if (o.request === true) {
    if (id === undefined) return 'request without a valid id';
    if (method === undefined) return 'request without a valid method';
    return { request: true, id, method, data };
  }
  if (o.response === true) {
    if (id === undefined) return 'response without a valid id';
    if (o.ok === true) return { response: true, id, ok: true, data };
    const errorReason = typeof o.errorReason === 'string' ? o.errorReason : 'error';
    return { response: true, id, ok: false, errorCode: o.errorCode, errorReason };
  }
  if (o.notification === true) {
    if (method === undefined) return 'notification without a valid method';
    return { notification: true, method, data };
  }
  return 'not a protoo message';
}
