import { SvelteMap } from 'svelte/reactivity';

/** A line in the room timeline ("Alice joined", "Reconnected"). */
export interface Notice {
  id: number;
  text: string;
  at: number;
}

const KEEP_NOTICES = 50;
const ERROR_SHOWN_MS = 8000;
let noticeSeq = 0;

/**
 * Room-timeline notices keyed by id (the newest 50, oldest first) and the one error toast,
 * which clears itself after 8 s unless a newer error replaced it. Shape: docs/client.md.
 */
export class NoticesStore {
  readonly byId = new SvelteMap<number, Notice>();
  readonly list = $derived([...this.byId.values()]);
  error = $state<string | null>(null);
  #errorTimer: ReturnType<typeof setTimeout> | undefined;

  add(text: string): void {
    const notice = { id: ++noticeSeq, text, at: Date.now() };
    this.byId.set(notice.id, notice);
    for (const id of this.byId.keys()) {
      if (this.byId.size <= KEEP_NOTICES) break;
      this.byId.delete(id);
    }
  }

  showError(message: string): void {
    this.error = message;
    clearTimeout(this.#errorTimer);
    this.#errorTimer = setTimeout(() => {
      if (this.error === message) this.error = null;
    }, ERROR_SHOWN_MS);
  }

  dismissError(): void {
    clearTimeout(this.#errorTimer);
    this.error = null;
  }

  /** The room ended: no timer may fire into a view that is gone. */
  close(): void {
    clearTimeout(this.#errorTimer);
  }
}
