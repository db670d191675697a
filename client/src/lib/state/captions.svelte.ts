import type { CaptionLine, CaptionsState } from '@tutti/protocol';

/** How long a speaker's last line stays under their tile after it was said. */
const LINE_MS = 8000;

const OFF: CaptionsState = {
  enabled: false,
  enabledBy: null,
  engine: null,
  language: null,
  gaps: [],
};

/**
 * Live captions as the server tells them: whether the room's are on (and who gets none),
 * and each speaker's latest line. session/captions.ts feeds it.
 */
export class CaptionsStore {
  state = $state<CaptionsState>(OFF);
  /** Speaker id → their latest line (partials are replaced by the next line of the id). */
  lines = $state<Record<string, CaptionLine>>({});
  /** The last refusal of our toggle (not the owner, engine unavailable…). */
  error = $state<string | null>(null);
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();

  reset(state: CaptionsState | undefined): void {
    this.state = state ?? OFF;
    if (!this.state.enabled) this.lines = {};
  }

  line(line: CaptionLine): void {
    this.lines[line.peerId] = line;
    clearTimeout(this.#timers.get(line.peerId));
    this.#timers.set(
      line.peerId,
      setTimeout(() => {
        if (this.lines[line.peerId]?.id === line.id) delete this.lines[line.peerId];
      }, LINE_MS),
    );
  }

  lineOf(peerId: string): CaptionLine | undefined {
    return this.lines[peerId];
  }
}
