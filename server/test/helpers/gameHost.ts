import type { GameHost } from '../../src/games/host.ts';
import type {
  GameEvent,
  GameNotificationMap,
  GameNotificationMethod,
} from '../../src/games/protocol.ts';

/**
 * A GameHost for unit tests: records every event (broadcasts and sends, in order, as they
 * would go over the wire: serialised) and runs a manual clock, so `advance(20_000)` fires a
 * turn timer at once.
 */
export interface Delivery {
  to: 'room' | string;
  event: GameEvent;
  /** The event as JSON, as a client would receive it. */
  wire: string;
}

export class RecordingHost implements GameHost {
  readonly deliveries: Delivery[] = [];
  #now = 1_000_000;
  #timers: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  #seq = 0;

  broadcast(event: GameEvent): void {
    this.deliveries.push({ to: 'room', event, wire: JSON.stringify(event) });
  }

  send(memberId: string, event: GameEvent): void {
    this.deliveries.push({ to: memberId, event, wire: JSON.stringify(event) });
  }

  now(): number {
    return this.#now;
  }

  schedule(delayMs: number, fn: () => void): () => void {
    const timer = { at: this.#now + delayMs, seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Moves the clock, firing due timers in time order (timers they schedule fire too). */
  advance(ms: number): void {
    const until = this.#now + ms;
    for (;;) {
      const due = this.#timers
        .filter((t) => !t.cancelled && t.at <= until)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      due.cancelled = true;
      this.#now = due.at;
      due.fn();
    }
    this.#now = until;
    this.#timers = this.#timers.filter((t) => !t.cancelled);
  }

  /** Timers still pending (a finished game leaves none). */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Data of every event with this method, in order. */
  events<M extends GameNotificationMethod>(method: M): GameNotificationMap[M][] {
    return this.deliveries
      .filter((d) => d.event.method === method)
      .map((d) => d.event.data as GameNotificationMap[M]);
  }

  last<M extends GameNotificationMethod>(method: M): GameNotificationMap[M] {
    const all = this.events(method);
    if (all.length === 0) throw new Error(`no ${method} event`);
    return all.at(-1)!;
  }

  /** What `memberId` received: broadcasts plus what was sent to them alone. */
  wireSeenBy(memberId: string): string[] {
    return this.deliveries.filter((d) => d.to === 'room' || d.to === memberId).map((d) => d.wire);
  }

  clear(): void {
    this.deliveries.length = 0;
  }
}
