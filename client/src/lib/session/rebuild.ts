import { describe } from '../media/errors.ts';
import type { RoomStores } from '../state/stores.ts';

export interface RebuildDeps {
  /** The media rebuilt on the same tracks (MediaClient.restart). */
  restart(): Promise<void>;
  /** Whether the signaling socket is open now. */
  connected(): boolean;
  ended(): boolean;
  local: RoomStores['local'];
  notices: RoomStores['notices'];
}

/**
 * Media rebuilds (`media.restart`, a resume through another node, a transport whose ICE
 * never started): each one is owed until
 * one completes. A socket lost while one is under way loses its requests (their answers
 * never come), and the resume on the next socket, on the node we are on now, says 'kept':
 * so `owed` tells the session to rebuild again then. A newer rebuild supersedes an older
 * one (whose outcome is then ignored).
 */
export class MediaRebuilds {
  owed = false;
  #run = 0;
  readonly #deps: RebuildDeps;

  constructor(deps: RebuildDeps) {
    this.#deps = deps;
  }

  async run(notice = 'Media connection moved, reconnecting…'): Promise<void> {
    const { local, notices } = this.#deps;
    if (this.#deps.ended()) return;
    const run = ++this.#run;
    this.owed = true;
    local.status = 'restarting';
    notices.add(notice);
    try {
      await this.#deps.restart();
      if (run !== this.#run) return;
      this.owed = false;
      local.status = 'ready';
    } catch (err) {
      if (run !== this.#run || this.#deps.ended()) return;
      if (!this.#deps.connected()) return; // The next socket rebuilds.
      local.status = 'failed';
      notices.showError(`Could not restore media: ${describe(err)}`);
    }
  }

  /** A fresh start (a rejoin): what was owed is for the old membership. */
  cancel(): void {
    this.#run++;
    this.owed = false;
  }
}
