import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { lazyChild } from '../../src/kernel/lazyLog.ts';
import type { Logger } from '../../src/kernel/log.ts';

/** A real pino logger writing its lines into `lines`; counts the children it made. */
function recording(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const real = pino({ level }, sink);
  let children = 0;
  const parent: Logger = {
    debug: (o, m) => real.debug(o, m),
    info: (o, m) => real.info(o, m),
    warn: (o, m) => real.warn(o, m),
    error: (o, m) => real.error(o, m),
    isLevelEnabled: (l) => real.isLevelEnabled(l),
    child: (b) => {
      children++;
      return real.child(b);
    },
  };
  return { lines, parent, children: () => children };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

test('lazy child: no pino child is made until a line at an enabled level is written', async () => {
  const { lines, parent, children } = recording('info');
  const log = lazyChild(parent, { peerId: 'p1' });
  log.debug({ ip: '127.0.0.1' }, 'signaling connected');
  assert.equal(children(), 0, 'a disabled level makes nothing');
  log.info({ a: 1 }, 'first');
  log.warn({}, 'second');
  await flush();
  assert.equal(children(), 1, 'made once, on the first enabled line');
  assert.deepEqual(
    lines.map((l) => [l.peerId, l.msg, l.level]),
    [
      ['p1', 'first', 30],
      ['p1', 'second', 40],
    ],
  );
  assert.equal(lines[0]!.a, 1);
});

test('lazy child: a child of it carries both bindings, still made only when it writes', async () => {
  const { lines, parent, children } = recording('debug');
  const peer = lazyChild(parent, { peerId: 'p2' });
  const transport = peer.child({ transportId: 't1' });
  assert.equal(children(), 0);
  transport.error({ err: new Error('boom') });
  await flush();
  assert.equal(children(), 1);
  assert.equal(lines[0]!.peerId, 'p2');
  assert.equal(lines[0]!.transportId, 't1');
  assert.equal((lines[0]!.err as { message: string }).message, 'boom');
  assert.equal(peer.isLevelEnabled?.('debug'), true);
});
