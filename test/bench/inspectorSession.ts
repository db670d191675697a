/**
 * A V8 inspector connection to a bench's server process (started with `--inspect`): one
 * request at a time, answered by id. Used to profile only the measured phase of a run
 * (`--cpu-prof` covers the whole process: start-up, the joins, the leave storm at the end).
 */
export class InspectorSession {
  readonly #ws: WebSocket;
  #nextId = 1;
  readonly #waiting = new Map<number, (result: unknown) => void>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener('message', (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown };
      if (msg.id === undefined) return; // an event
      this.#waiting.get(msg.id)?.(msg.result);
      this.#waiting.delete(msg.id);
    });
  }

  static open(url: string): Promise<InspectorSession> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.addEventListener('open', () => resolve(new InspectorSession(ws)));
      ws.addEventListener('error', () => reject(new Error('inspector: connection failed')));
    });
  }

  call(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`inspector: no answer to ${method}`)),
        60_000,
      );
      this.#waiting.set(id, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.#ws.close();
  }
}

/** Starts the V8 CPU profiler in the process; the returned stop() answers its profile. */
export async function startCpuProfile(url: string): Promise<() => Promise<unknown>> {
  const session = await InspectorSession.open(url);
  await session.call('Profiler.enable');
  await session.call('Profiler.setSamplingInterval', { interval: 1000 });
  await session.call('Profiler.start');
  return async () => {
    const result = (await session.call('Profiler.stop')) as { profile?: unknown };
    session.close();
    return result.profile;
  };
}
