import type { RoomSummary } from '@tutti/protocol';
import type { MemberChannel } from './ports.ts';

/**
 * The connections watching the room list (lobby.subscribe): every change is pushed as
 * lobby.rooms, debounced so a burst of joins sends one list.
 */
export class Lobby {
  readonly #subscribers = new Set<MemberChannel>();
  readonly #list: () => RoomSummary[];
  readonly #debounceMs: number;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(list: () => RoomSummary[], debounceMs = 100) {
    this.#list = list;
    this.#debounceMs = debounceMs;
  }

  get size(): number {
    return this.#subscribers.size;
  }

  subscribe(channel: MemberChannel): void {
    if (!channel.closed && !this.#closed) this.#subscribers.add(channel);
  }

  unsubscribe(channel: MemberChannel): void {
    this.#subscribers.delete(channel);
  }

  /** The list changed: push it (once per debounce period). */
  changed(): void {
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const rooms = this.#list();
      for (const channel of this.#subscribers) {
        if (channel.closed) this.#subscribers.delete(channel);
        else void channel.notify('lobby.rooms', { rooms });
      }
    }, this.#debounceMs);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#subscribers.clear();
  }
}
