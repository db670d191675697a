import { parseArgs } from 'node:util';
import type { ChatMessage } from '@tutti/protocol';
import { ChatService } from '../../server/src/chat/ChatService.ts';
import { LocalChatBus } from '../../server/src/chat/LocalChatBus.ts';
import type { MemberChannel, RoomDirectory } from '../../server/src/rooms/ports.ts';
import { createStore } from '../../server/src/store/createStore.ts';
import { createTestSchema, TEST_DATABASE_URL } from '../../server/test/helpers/pgSchema.ts';
import { percentile } from '../load/controller.ts';
import { machineInfo } from '../load/cpu.ts';

/**
 * node test/bench/chatStore.ts [--rate 200] [--duration 10] [--sqlite] [--keys [--compare]]:
 * the chat store's part of a send alone, no sockets. One room, `rate` chat.send per second
 * into a ChatService on a real PostgreSQL (TUTTI_TEST_DATABASE_URL, a schema of its own) or
 * SQLite: send → answer p50/p99, i.e. the room's queue plus the write. Shows what one round
 * trip and one commit per message costs a busy room, against group commit. `--keys`: every
 * send carries an idempotency key, as the client's always do; `--compare` runs first the
 * baseline — the key looked up (findByKey) before every send, as ChatService did before —
 * then the default, back to back, and prints the ratio.
 */
const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    duration: { type: 'string', default: '10' },
    sqlite: { type: 'boolean', default: false },
    keys: { type: 'boolean', default: false },
    compare: { type: 'boolean', default: false },
  },
});
const RATE = Math.max(1, Number(args.rate));
const DURATION_S = Math.max(1, Number(args.duration));

const schema = args.sqlite ? undefined : await createTestSchema();
const dir = args.sqlite ? (await import('node:fs')).mkdtempSync('/tmp/tutti-chatstore-') : '/none';
const stores = await createStore({
  ...(schema && { databaseUrl: TEST_DATABASE_URL, postgres: { schema: schema.name } }),
  dataDir: dir,
});
const peers: MemberChannel[] = ['ann', 'ben'].map((id) => ({
  id,
  ip: 'bench',
  closed: false,
  notify: async () => {},
  notifyPrepared: async () => {},
  request: () => Promise.reject(new Error('not used')),
  close() {},
}));
const membership = (id: string) => ({ roomId: 'r', nickname: id, role: 'participant' as const });
const rooms: RoomDirectory = {
  membership,
  requireMembership: membership,
  members: () => peers,
  member: (_room, id) => ({ id, nickname: id }),
};
const chat = new ChatService({
  store: stores.chat,
  bus: new LocalChatBus(),
  rooms,
  settings: { ratePerSecond: 1e6, burst: 1e6, maxLength: 2000, historyPageSize: 50 },
});

console.log(`[bench:chat-store] machine: ${machineInfo()}`);
console.log(
  `[bench:chat-store] ${stores.kind}, one room, ${RATE} msg/s for ${DURATION_S} s (send → answer)${args.keys ? ', keyed sends' : ''}`,
);

/** One run: `lookUpFirst` adds the old pre-check (findByKey before each keyed send). */
async function run(label: string, lookUpFirst: boolean): Promise<{ p50: number; p99: number }> {
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<ChatMessage | void>[] = [];
  const t0 = performance.now();
  let sent = 0;
  while (sent < RATE * DURATION_S) {
    const due = Math.min(RATE * DURATION_S, Math.floor(((performance.now() - t0) / 1000) * RATE));
    while (sent < due) {
      const at = performance.now();
      const peer = peers[sent % 2]!;
      const text = `m${sent}`;
      const key = args.keys ? `${label.split(' ')[0]}-key-${sent}` : undefined;
      const send = async (): Promise<ChatMessage> => {
        if (key && lookUpFirst) await stores.chat.findByKey('r', peer.id, key);
        return chat.send(peer, { text, key });
      };
      pending.push(
        send().then(
          () => void latencies.push(performance.now() - at),
          () => void errors++,
        ),
      );
      sent++;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(pending);
  const seconds = (performance.now() - t0) / 1000;
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  console.log(
    `[bench:chat-store] ${label}: ${sent} sent in ${seconds.toFixed(1)} s, ${errors} errors; answer p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
  );
  return { p50, p99 };
}

if (args.compare) {
  const base = await run('baseline (findByKey before each send)', true);
  const next = await run('key answered by the batch', false);
  console.log(
    `[bench:chat-store] ratio ÷ baseline: answer p50 ×${(next.p50 / base.p50).toFixed(2)}, p99 ×${(next.p99 / base.p99).toFixed(2)}`,
  );
} else {
  await run('run', false);
}
chat.close();
await stores.close();
await schema?.drop();
if (args.sqlite) (await import('node:fs')).rmSync(dir, { recursive: true, force: true });
