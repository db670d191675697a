import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SharedFile } from '@tutti/protocol';
import { S3Storage } from '../../src/files/S3Storage.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { createRoom, joinRoom, type Member } from '../helpers/chatClients.ts';
import { startFreezableProxy, type FreezableProxy } from '../helpers/freezableProxy.ts';
import { startS3rver } from '../helpers/storageS3rver.ts';
import { streamingUpload, uploadFile, uploadToken } from '../helpers/uploads.ts';

// S3 frozen behind a TCP proxy that stops forwarding: uploads and downloads fail within
// the timeouts with UNAVAILABLE (never hang), leave nothing behind, and work again after.

const MB = 1024 * 1024;
const REQUEST_TIMEOUT_MS = 600;
const STALL_MS = 800;
/** Two attempts at most (the SDK's retry), plus slack for a loaded machine. */
const BOUND_MS = 2 * REQUEST_TIMEOUT_MS + 2500;
const png = (n: number) =>
  Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(n)]);

describe('file storage frozen (S3 behind a freezable proxy)', () => {
  let s3: Awaited<ReturnType<typeof startS3rver>>;
  let proxy: FreezableProxy;
  let server: TestServer;
  let bucket: S3Storage;
  let ann: Member;
  let roomId: string;
  let big: SharedFile;

  const stored = async (): Promise<string[]> =>
    (await bucket.list(`${encodeURIComponent(roomId)}/`)).map((o) => o.key);

  before(async () => {
    s3 = await startS3rver();
    proxy = await startFreezableProxy(Number(new URL(s3.endpoint).port));
    const settings = s3.settings('tutti-frozen');
    bucket = new S3Storage(settings);
    server = await startTestServer({
      files: {
        driver: 's3',
        maxBytes: 16 * MB,
        stallTimeoutMs: STALL_MS,
        s3: {
          ...settings,
          endpoint: `http://127.0.0.1:${proxy.port}`,
          createBucket: true,
          connectTimeoutMs: 500,
          requestTimeoutMs: REQUEST_TIMEOUT_MS,
        },
      },
      chat: { ratePerSecond: 50, burst: 50 },
    });
    ({ roomId } = await createRoom(server, 'Frozen store'));
    ann = await joinRoom(server, roomId, 'Ann');
    const res = await uploadFile(server, await uploadToken(ann), 'big.png', png(12 * MB));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    big = (res.body.message as { file: SharedFile }).file;
  });
  after(async () => {
    proxy?.thaw();
    ann?.client.close();
    await server?.stop();
    await bucket?.close();
    await proxy?.close();
    await s3?.stop();
  });

  test('a download whose store stops mid-way ends with an error, in time', async () => {
    const outcome = await new Promise<{ bytes: number; error: boolean; ms: number }>((resolve) => {
      let bytes = 0;
      let frozenAt = 0;
      const req = get(server.url + big.url, (res) => {
        assert.equal(res.statusCode, 200);
        const done = (error: boolean) => resolve({ bytes, error, ms: Date.now() - frozenAt });
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (!frozenAt && bytes >= 256 * 1024) {
            frozenAt = Date.now();
            proxy.freeze();
          }
        });
        res.on('error', () => done(true));
        res.on('aborted', () => done(true));
        res.on('end', () => done(!res.complete));
      });
      req.on('error', () => resolve({ bytes, error: true, ms: Date.now() - frozenAt }));
    });
    proxy.thaw();
    assert.ok(outcome.error, 'the download ended with an error');
    assert.ok(outcome.bytes < big.size, `got ${outcome.bytes} of ${big.size} bytes`);
    assert.ok(outcome.ms < STALL_MS + BOUND_MS, `cut after ${outcome.ms} ms`);
  });

  test('store frozen: downloads and uploads answer UNAVAILABLE in time, leaving nothing', async () => {
    const before = await stored();
    proxy.freeze();
    let thawedAt: number;
    try {
      let start = Date.now();
      const dl = await fetch(server.url + big.url);
      assert.equal(dl.status, 503);
      assert.equal(((await dl.json()) as { error: string }).error, 'UNAVAILABLE');
      assert.ok(Date.now() - start < BOUND_MS, `download answered after ${Date.now() - start} ms`);

      start = Date.now();
      const small = await uploadFile(server, await uploadToken(ann), 'small.png', png(100_000));
      assert.equal(small.status, 503, JSON.stringify(small.body));
      assert.equal(small.body.error, 'UNAVAILABLE');
      assert.ok(Date.now() - start < BOUND_MS, `upload answered after ${Date.now() - start} ms`);

      // A multipart upload (past 5 MiB) that stalls half-way is aborted too.
      start = Date.now();
      const streamed = streamingUpload(server, await uploadToken(ann), 'large.png');
      streamed.send(png(8 * MB));
      streamed.finish();
      const large = await streamed.answer;
      assert.equal(large.status, 503, JSON.stringify(large.body));
      assert.equal(large.body.error, 'UNAVAILABLE');
      assert.ok(
        Date.now() - start < BOUND_MS + STALL_MS,
        `answered after ${Date.now() - start} ms`,
      );
    } finally {
      proxy.thaw();
      thawedAt = Date.now();
    }
    // Whatever reached the store late is deleted again: only what was there remains.
    await sleep(Math.max(0, 8000 - (Date.now() - thawedAt)));
    assert.deepEqual(await stored(), before);
  });

  test('thawed: uploads and downloads work again', async () => {
    const res = await uploadFile(server, await uploadToken(ann), 'after.png', png(50_000));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const file = (res.body.message as { file: SharedFile }).file;
    const dl = await fetch(server.url + file.url);
    assert.equal(dl.status, 200);
    assert.equal((await dl.arrayBuffer()).byteLength, file.size);
  });
});
