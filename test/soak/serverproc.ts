import { writeHeapSnapshot } from 'node:v8';
import { startTestServer, type TestServer } from '../helpers/startServer.ts';
import { Census } from './census.ts';
import type { FromServer, ToServer } from './serverIpc.ts';

/**
 * The soak's Tutti server, in a process of its own (forked by SoakServer in serverIpc.ts,
 * with --expose-gc): the same in-process server as the tests use, 2 workers by default,
 * small routers so rooms spill onto a second router and producers get piped. It counts
 * its mediasoup objects and sockets (Census) and answers snapshots over IPC.
 */

if (!process.send) {
  console.error('serverproc.ts is started by the soak (fork with IPC), not by hand');
  process.exit(2);
}

const crashes: string[] = [];
process.on('uncaughtException', (err) => void crashes.push(`server: ${String(err)}`));
process.on('unhandledRejection', (err) => void crashes.push(`server: ${String(err)}`));
// The soak driver owns our lifetime: Ctrl-C reaches the process group and the driver
// sends 'stop'; if the driver dies, the IPC channel closes and we go too.
process.on('SIGINT', () => undefined);
process.on('disconnect', () => process.exit(1));

let server: TestServer | undefined;
let census: Census | undefined;

function send(msg: FromServer): void {
  process.send?.(msg);
}

async function start(host: string, workers: number): Promise<void> {
  census = new Census(); // before the workers start: it hooks mediasoup's observer
  server = await startTestServer({
    server: { host },
    media: { numWorkers: workers, maxConsumersPerRouter: 4, listenIp: host },
    rooms: { maxCapacity: 1000 },
  });
  const app = server.app;
  census.watchServer(app.server, { protooConnections: () => app.tutti.connections.count });
  send({ t: 'ready', url: server.url, wsUrl: server.wsUrl });
}

async function stop(id: number): Promise<void> {
  // Nothing closes a worker before the server stops: one that closed died.
  const died = census?.workersClosed ?? 0;
  if (died > 0) crashes.push(`${died} media worker(s) died`);
  await server?.stop().catch((err: unknown) => crashes.push(`server stop: ${String(err)}`));
  census?.stop();
  // Exit once the answer is out (nothing else should hold the loop, but be sure).
  process.send?.({ t: 'stopped', id, crashes } satisfies FromServer, () => process.exit(0));
}

process.on('message', (raw) => {
  const msg = raw as ToServer;
  switch (msg.t) {
    case 'start':
      start(msg.init.host, msg.init.workers).catch((err: unknown) => {
        send({ t: 'failed', error: err instanceof Error ? err.message : String(err) });
        process.exit(1);
      });
      break;
    case 'snapshot':
      if (census) {
        const snapshot = census.snapshot(msg.collect);
        send({ t: 'snapshot', id: msg.id, snapshot, workersClosed: census.workersClosed });
      }
      break;
    case 'heapSnapshot':
      send({ t: 'heapSnapshot', id: msg.id, file: writeHeapSnapshot(msg.file) });
      break;
    case 'stop':
      void stop(msg.id);
      break;
  }
});
