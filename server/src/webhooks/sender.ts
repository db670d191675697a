import { randomUUID } from 'node:crypto';
import type { Logger } from '../kernel/log.ts';
import { SIGNATURE_HEADER, signatureHeader } from './signature.ts';

export interface WebhookSettings {
  urls: readonly string[];
  secret: string;
  timeoutMs: number;
  maxAttempts: number;
  backoffMs: number;
  queueSize: number;
}

interface Delivery {
  id: string;
  event: string;
  body: string;
}

/**
 * One receiver: a bounded queue and one delivery loop. Events go out in order; a failed POST
 * (network error, timeout, non-2xx) is retried after backoffMs·2^n (±25 % jitter) up to
 * maxAttempts, then dropped and logged. A full queue drops its oldest event: a dead receiver
 * costs a bounded amount of memory and nothing else.
 */
class Receiver {
  readonly #queue: Delivery[] = [];
  readonly #url: string;
  readonly #settings: WebhookSettings;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #running: Promise<void> | undefined;
  dropped = 0;

  constructor(url: string, settings: WebhookSettings, log: Logger) {
    this.#url = url;
    this.#settings = settings;
    this.#log = log.child({ webhook: url });
  }

  get pending(): number {
    return this.#queue.length + (this.#running ? 1 : 0);
  }

  push(delivery: Delivery): void {
    if (this.#abort.signal.aborted) return;
    if (this.#queue.length >= this.#settings.queueSize) {
      const lost = this.#queue.shift();
      this.dropped++;
      this.#log.warn(
        { event: lost?.event, id: lost?.id },
        'webhook queue full: oldest event dropped',
      );
    }
    this.#queue.push(delivery);
    this.#running ??= this.#drain().finally(() => (this.#running = undefined));
  }

  async #drain(): Promise<void> {
    for (let next = this.#queue.shift(); next; next = this.#queue.shift()) {
      await this.#deliver(next);
      if (this.#abort.signal.aborted) return;
    }
  }

  async #deliver(d: Delivery): Promise<void> {
    const { maxAttempts, backoffMs } = this.#settings;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const failure = await this.#post(d);
      if (failure === undefined) return;
      if (this.#abort.signal.aborted) return;
      if (attempt === maxAttempts) {
        this.#log.warn(
          { event: d.event, id: d.id, attempts: attempt, failure },
          'webhook given up',
        );
        return;
      }
      const delay = backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
      this.#log.debug({ event: d.event, attempt, failure, delay }, 'webhook failed: retrying');
      await this.#sleep(delay);
    }
  }

  /** undefined on success, else why it failed. */
  async #post(d: Delivery): Promise<string | undefined> {
    try {
      const res = await fetch(this.#url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [SIGNATURE_HEADER]: signatureHeader(this.#settings.secret, d.body),
          'tutti-event': d.event,
          // The same on every retry: receivers de-duplicate by it.
          'tutti-delivery': d.id,
        },
        body: d.body,
        redirect: 'manual',
        signal: AbortSignal.any([
          this.#abort.signal,
          AbortSignal.timeout(this.#settings.timeoutMs),
        ]),
      });
      await res.body?.cancel().catch(() => {});
      return res.ok ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      return err instanceof Error
        ? err.name === 'TimeoutError'
          ? 'timeout'
          : err.message
        : String(err);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      const signal = this.#abort.signal;
      function done() {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Waits up to `graceMs` for the queue to empty, then aborts what is left. */
  async close(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    while (this.pending > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20).unref());
    }
    this.#abort.abort();
    this.#queue.length = 0;
    await this.#running;
  }
}

/** Fans each event out to every configured receiver; send() never waits and never throws. */
export class WebhookSender {
  readonly #receivers: Receiver[];

  constructor(settings: WebhookSettings, log: Logger) {
    this.#receivers = settings.urls.map((url) => new Receiver(url, settings, log));
  }

  send(event: string, data: Record<string, unknown>): void {
    if (this.#receivers.length === 0) return;
    const id = randomUUID();
    const body = JSON.stringify({ id, event, createdAt: Date.now(), ...data });
    for (const r of this.#receivers) r.push({ id, event, body });
  }

  /** Events waiting or in flight, over all receivers. */
  get pending(): number {
    return this.#receivers.reduce((n, r) => n + r.pending, 0);
  }

  get dropped(): number {
    return this.#receivers.reduce((n, r) => n + r.dropped, 0);
  }

  close(graceMs = 2000): Promise<void> {
    return Promise.all(this.#receivers.map((r) => r.close(graceMs))).then(() => {});
  }
}
