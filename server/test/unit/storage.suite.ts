import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Storage } from '../../src/files/Storage.ts';
import { fileKey, roomPrefix } from '../../src/files/keys.ts';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Yields `total` bytes in chunks without holding them all, then optionally fails. */
function source(data: Buffer, opts: { failAfter?: number } = {}): Readable {
  return Readable.from(
    (async function* () {
      for (let i = 0; i < data.length; i += 64 * 1024) {
        if (opts.failAfter !== undefined && i >= opts.failAfter)
          throw new Error('client went away');
        yield data.subarray(i, i + 64 * 1024);
      }
    })(),
  );
}

/** The one contract every Storage driver passes. */
export function storageSuite(name: string, make: () => Promise<Storage>): void {
  describe(`Storage contract: ${name}`, () => {
    it('streams a file in and reads identical bytes back', async () => {
      const s = await make();
      const data = randomBytes(300_000);
      const { size } = await s.put(fileKey('room-a', 'f1'), source(data));
      assert.equal(size, data.length);
      assert.equal(sha(await readAll(await s.get(fileKey('room-a', 'f1')))), sha(data));
      assert.deepEqual(await s.stat(fileKey('room-a', 'f1')), {
        key: 'room-a/f1',
        size: data.length,
      });
    });

    it('handles a multipart-sized upload of unknown length (> 5 MiB)', async () => {
      const s = await make();
      const data = randomBytes(6 * 1024 * 1024 + 123);
      const { size } = await s.put(fileKey('room-big', 'big'), source(data));
      assert.equal(size, data.length);
      assert.equal(sha(await readAll(await s.get(fileKey('room-big', 'big')))), sha(data));
    });

    it('serves byte ranges', async () => {
      const s = await make();
      const data = randomBytes(100_000);
      await s.put(fileKey('room-r', 'f'), source(data));
      const part = await readAll(await s.get(fileKey('room-r', 'f'), { start: 1000, end: 1999 }));
      assert.deepEqual(part, data.subarray(1000, 2000));
      const tail = await readAll(
        await s.get(fileKey('room-r', 'f'), { start: 99_990, end: 99_999 }),
      );
      assert.deepEqual(tail, data.subarray(99_990));
    });

    it('leaves nothing behind when the upload stream fails', async () => {
      const s = await make();
      const data = randomBytes(6 * 1024 * 1024);
      await assert.rejects(
        s.put(fileKey('room-f', 'broken'), source(data, { failAfter: 5.5 * 1024 * 1024 })),
        /client went away/,
      );
      assert.equal(await s.stat(fileKey('room-f', 'broken')), undefined);
      assert.deepEqual(await s.list(roomPrefix('room-f')), []);
    });

    it('reports a missing object as NOT_FOUND / undefined', async () => {
      const s = await make();
      assert.equal(await s.stat(fileKey('room-x', 'nope')), undefined);
      await assert.rejects(s.get(fileKey('room-x', 'nope')), /no such file/);
    });

    it('lists and deletes one room without touching another', async () => {
      const s = await make();
      for (const f of ['a', 'b', 'c']) await s.put(fileKey('room-1', f), source(Buffer.from(f)));
      await s.put(fileKey('room-10', 'z'), source(Buffer.from('z')));
      assert.deepEqual(
        (await s.list(roomPrefix('room-1'))).map((o) => o.key),
        ['room-1/a', 'room-1/b', 'room-1/c'],
      );
      assert.equal(await s.deletePrefix(roomPrefix('room-1')), 3);
      assert.deepEqual(await s.list(roomPrefix('room-1')), []);
      assert.deepEqual(
        (await s.list(roomPrefix('room-10'))).map((o) => o.key),
        ['room-10/z'],
      );
      await s.delete(fileKey('room-10', 'z'));
      assert.equal(await s.stat(fileKey('room-10', 'z')), undefined);
    });

    it('keeps hostile room ids inside their own prefix', async () => {
      const s = await make();
      await s.put(fileKey('../../etc', 'passwd'), source(Buffer.from('x')));
      assert.deepEqual(
        (await s.list(roomPrefix('../../etc'))).map((o) => o.key),
        ['%2E.%2F..%2Fetc/passwd'],
      );
      await s.deletePrefix(roomPrefix('../../etc'));
      await assert.rejects(s.put('../escape', source(Buffer.from('x'))), /unsafe storage key/);
    });
  });
}
