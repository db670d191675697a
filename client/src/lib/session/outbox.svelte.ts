import { errorCodeOf, errorText, type ChatMessage } from '@tutti/protocol';
import type { Signaling } from '../signaling.ts';

/** A message typed but not yet acknowledged by the server. */
export interface PendingMessage {
  /** The idempotency key the server stores it under: resending never duplicates it. */
  key: string;
  text: string;
  to: string | null;
}

/** How long one attempt waits for its answer before the message stays queued for later. */
const ATTEMPT_TIMEOUT_MS = 5000;
const RETRY_MS = 2000;

/**
 * Errors that say nothing about the message itself (the link, a restart, a busy server):
 * the message stays in the outbox and goes again after the next (re)connect.
 */
const RETRYABLE = new Set([
  'TIMEOUT',
  'INTERNAL',
  'NOT_JOINED',
  'RATE_LIMITED',
  'DRAINING',
  'UNAVAILABLE',
  'STORE_UNAVAILABLE',
  'NOT_DELIVERED',
]);

/**
 * The chat outbox (docs/reconnect.md): every message gets a client-made key and stays here
 * until the server answers it; what was typed while the link was down, or whose answer was
 * lost, is sent again, in order, after a reconnect. The server stores each (room, sender,
 * key) once, so a resend of a message that did arrive changes nothing.
 */
export class ChatOutbox {
  /** Oldest first; the room view shows them as "sending". */
  pending = $state<PendingMessage[]>([]);
  readonly #signaling: Signaling;
  readonly #delivered: (message: ChatMessage) => void;
  #flushing: Promise<void> | null = null;
  /** Messages the server refused (by key), for their send() to reject with. */
  readonly #refused = new Map<string, Error>();
  #retry: ReturnType<typeof setTimeout> | undefined;

  constructor(signaling: Signaling, delivered: (message: ChatMessage) => void) {
    this.#signaling = signaling;
    this.#delivered = delivered;
  }

  /**
   * Queues a message and sends what is queued. Resolves once it was delivered or kept for
   * a later attempt; rejects (and forgets it) when the server refused the message itself.
   */
  async send(text: string, to: string | null): Promise<void> {
    const entry: PendingMessage = { key: newKey(), text, to };
    this.pending.push(entry);
    await this.flush();
    const refused = this.#refused.get(entry.key);
    if (refused) {
      this.#refused.delete(entry.key);
      throw refused;
    }
  }

  /** Sends everything queued, one at a time, in order; stops at the first retryable failure. */
  flush(): Promise<void> {
    this.#flushing ??= this.#drain().finally(() => (this.#flushing = null));
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    while (this.pending.length > 0) {
      if (this.#signaling.state !== 'open') return; // The reconnect flushes again.
      const entry = this.pending[0]!;
      try {
        const { message } = await this.#signaling.request(
          'chat.send',
          { text: entry.text, key: entry.key, ...(entry.to ? { to: entry.to } : {}) },
          ATTEMPT_TIMEOUT_MS,
        );
        this.#drop(entry);
        this.#delivered(message);
      } catch (err) {
        const code = errorCodeOf(err);
        if (code === undefined || RETRYABLE.has(code)) {
          // A busy or briefly failing server: again shortly (a reconnect flushes anyway).
          clearTimeout(this.#retry);
          this.#retry = setTimeout(() => void this.flush(), RETRY_MS);
          return;
        }
        this.#drop(entry);
        this.#refused.set(entry.key, new Error(`${code}: ${errorText(err)}`));
      }
    }
  }

  /** The session ended: nothing more is sent. */
  close(): void {
    clearTimeout(this.#retry);
    this.pending = [];
  }

  #drop(entry: PendingMessage): void {
    this.pending = this.pending.filter((p) => p.key !== entry.key);
  }
}

/** 128 random bits as hex (getRandomValues works outside secure contexts too). */
function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
