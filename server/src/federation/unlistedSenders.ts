import { bounded } from './timeout.ts';

/** Events of one node waiting for the registry, at most: a flood is not kept. */
const MAX_WAITING = 1000;

/**
 * Events from a node this one's registry does not list. One that just started is listed only
 * from this node's next scan (read every heartbeat), though it beat before it sent anything:
 * the registry is read again (a scan begun after the event came; the registry coalesces the
 * reads of events arriving together), bounded by the timeout, and its events wait for it in
 * their order. Listed then, they are delivered; still unlisted, they are dropped, and the node
 * is gone (declared gone, or never beating): its next events are dropped without another read,
 * until a scan lists it again.
 */
export function unlistedSenderGate<E>(deps: {
  listed: (nodeId: string) => boolean;
  /** A heartbeat + scan begun after the call (NodeRegistry.refresh). */
  refresh: () => Promise<void>;
  timeoutMs: number;
  deliver: (from: string, event: E) => void;
  /** `events` of `from`, which is not listed after a fresh scan. */
  drop: (from: string, events: E[]) => void;
}): (from: string, event: E) => void {
  const waiting = new Map<string, E[]>();
  /** Nodes found unlisted after a fresh scan: gone until a scan lists them again. */
  const gone = new Set<string>();

  /** `read`: the registry was read (else it failed or timed out: nothing learnt of `from`). */
  const settle = (from: string, read: boolean): void => {
    const events = waiting.get(from) ?? [];
    waiting.delete(from);
    if (!deps.listed(from)) {
      if (gone.size >= MAX_WAITING) gone.clear();
      if (read) gone.add(from);
      return deps.drop(from, events);
    }
    for (const event of events) deps.deliver(from, event);
  };

  return (from, event) => {
    const queue = waiting.get(from);
    if (queue) {
      if (queue.length < MAX_WAITING) queue.push(event);
      return;
    }
    if (deps.listed(from)) {
      gone.delete(from);
      return deps.deliver(from, event);
    }
    if (gone.has(from)) return deps.drop(from, [event]);
    waiting.set(from, [event]);
    void bounded(deps.refresh(), deps.timeoutMs).then(
      () => settle(from, true),
      () => settle(from, false), // Unreadable: what the registry listed stands.
    );
  };
}
