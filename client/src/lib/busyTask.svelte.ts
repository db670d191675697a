import { explain } from './app.svelte.ts';

/**
 * A form's pending request: one at a time (`busy` disables its buttons while it runs), and
 * why the last one failed, worded for people (`error`, which the form may also set itself).
 */
export class BusyTask {
  busy = $state(false);
  error = $state<string | null>(null);

  /** Runs `task` unless one is running; resolves whether it ran and succeeded. */
  async run(task: () => Promise<void>): Promise<boolean> {
    if (this.busy) return false;
    this.busy = true;
    this.error = null;
    try {
      await task();
      return true;
    } catch (err) {
      this.error = explain(err);
      return false;
    } finally {
      this.busy = false;
    }
  }
}
