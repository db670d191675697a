import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SharedFile } from '@tutti/protocol';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { createRoom, joinRoom, until, type Member } from '../helpers/chatClients.ts';
import { startS3rver } from '../helpers/storageS3rver.ts';

// Uploads must stream: with the client paused after 24 MB of a 45 MB file, most of those
// bytes must already be in storage (on disk / in the S3 server), not held by the server.
const SIZE = 45 * 1024 * 1024;
const PAUSE_AT = 24 * 1024 * 1024;
const CHUNK = 1024 * 1024;
const BOUNDARY = '----tutti-stream-test';

let s3: Awaited<ReturnType<typeof startS3rver>>;
const cleanup: (() => Promise<void>)[] = [];

before(async () => {
  s3 = await startS3rver();
});
after(async () => {
  for (const c of cleanup.reverse()) await c();
  await s3?.stop();
});

function bytesUnder(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  }
  return total;
}

/** A multipart body generated chunk by chunk, that waits at PAUSE_AT until `resume()`. */
function pausedUpload(name: string) {
  let resume!: () => void;
  const resumed = new Promise<void>((r) => (resume = r));
  const hash = createHash('sha256');
  let sent = 0;
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
      'Content-Type: application/pdf\r\n\r\n',
  );
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(head);
    },
    async pull(controller) {
      if (sent === PAUSE_AT) await resumed;
      if (sent >= SIZE) {
        controller.enqueue(Buffer.from(`\r\n--${BOUNDARY}--\r\n`));
        controller.close();
        return;
      }
      const chunk =
        sent === 0
          ? Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(CHUNK - 9)])
          : randomBytes(CHUNK);
      hash.update(chunk);
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { body, resume, digest: () => hash.digest('hex'), sent: () => sent };
}

for (const driver of ['local', 's3'] as const) {
  test(
    `a 45 MB upload streams through to ${driver} storage and back, byte for byte`,
    { timeout: 120_000 },
    async () => {
      const overrides: Record<string, unknown> =
        driver === 's3'
          ? { files: { driver: 's3', s3: { ...s3.settings('tutti-stream'), createBucket: true } } }
          : {};
      const server: TestServer = await startTestServer(overrides);
      const members: Member[] = [];
      cleanup.push(async () => {
        for (const m of members) m.client.close();
        await server.stop();
      });
      const where = driver === 's3' ? s3.dir : join(server.config.data.dir, 'files');
      const { roomId } = await createRoom(server, 'Big files');
      const ann = await joinRoom(server, roomId, 'Ann');
      const ben = await joinRoom(server, roomId, 'Ben');
      members.push(ann, ben);
      const { uploadUrl } = await ann.client.request('files.uploadToken', {});
      const upload = pausedUpload('big.pdf');
      const response = fetch(server.url + uploadUrl, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        body: upload.body,
        duplex: 'half',
      } as RequestInit);
      try {
        await until(() => upload.sent() === PAUSE_AT, 20_000, 'the client to send 24 MB');
        // lib-storage holds up to a few 5 MiB parts; local disk a few 64 KiB chunks.
        await until(
          () => bytesUnder(where) >= PAUSE_AT - 12 * CHUNK,
          20_000,
          'the bytes to reach storage',
        );
      } finally {
        upload.resume();
      }
      const res = await response;
      assert.equal(res.status, 201);
      const file = ((await res.json()) as { message: { file: SharedFile } }).message.file;
      assert.equal(file.size, SIZE);
      const note = await ben.client.nextNotification(
        'chat.message',
        (d) => d.message.file?.id === file.id,
      );
      const download = await fetch(server.url + note.message.file!.url);
      const hash = createHash('sha256');
      for await (const c of download.body!) hash.update(c);
      assert.equal(hash.digest('hex'), upload.digest());
    },
  );
}
