import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join as joinPath } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import type { SharedFile } from '@tutti/protocol';
import { S3Storage } from '../../src/files/S3Storage.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { createRoom, deleteRoom, joinRoom, type Member } from '../helpers/chatClients.ts';
import { startS3rver } from '../helpers/storageS3rver.ts';

const MAX = 2 * 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const png = (n: number) =>
  Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(n)]);
const pdf = (n: number) => Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(n)]);

interface UploadResult {
  status: number;
  body: { message?: { file?: SharedFile }; error?: string; message_?: string } & Record<
    string,
    unknown
  >;
}

async function upload(
  server: TestServer,
  token: string | undefined,
  name: string,
  bytes: Buffer,
): Promise<UploadResult> {
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(bytes)]), name);
  const res = await fetch(
    `${server.url}/api/files${token ? `?token=${encodeURIComponent(token)}` : ''}`,
    {
      method: 'POST',
      body: form,
    },
  );
  return { status: res.status, body: (await res.json()) as UploadResult['body'] };
}

async function tokenFor(m: Member): Promise<string> {
  const { token, uploadUrl, expiresAt } = await m.client.request('files.uploadToken', {});
  assert.ok(uploadUrl.startsWith('/api/files?token='));
  assert.ok(expiresAt > Date.now());
  return token;
}

/**
 * Starts a POST declaring `declared` bytes and sends them slowly, like a throttled uplink.
 * Resolves once the answer's status line arrived and `writesAfter` more chunks were sent:
 * the status, and whether the server dropped the connection while the client still sent.
 */
async function slowOversizeUpload(
  server: TestServer,
  token: string,
  declared: number,
  writesAfter: number,
): Promise<{ status: number; dropped: boolean }> {
  const { hostname, port } = new URL(server.url);
  const socket = connect(Number(port), hostname);
  let dropped = false;
  socket.on('error', () => (dropped = true));
  socket.on('close', () => (dropped = true));
  let head = '';
  const answered = new Promise<number>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (m) resolve(Number(m[1]));
    });
  });
  socket.write(
    `POST /api/files?token=${encodeURIComponent(token)} HTTP/1.1\r\nhost: ${hostname}\r\n` +
      `content-type: multipart/form-data; boundary=x\r\ncontent-length: ${declared}\r\n\r\n`,
  );
  const chunk = randomBytes(16 * 1024);
  let sending = true;
  const sender = (async () => {
    while (sending && !dropped) {
      socket.write(chunk);
      await sleep(20);
    }
  })();
  const status = await answered;
  for (let i = 0; i < writesAfter && !dropped; i++) await sleep(20);
  sending = false;
  await sender;
  socket.destroy();
  return { status, dropped };
}

/** One suite, both storage drivers: the file bytes must not care where they live. */
for (const driver of ['local', 's3'] as const) {
  describe(`file sharing (${driver} storage)`, () => {
    let server: TestServer;
    let s3: Awaited<ReturnType<typeof startS3rver>> | undefined;
    let bucket: S3Storage | undefined;
    const members: Member[] = [];
    const join = async (roomId: string, nickname: string) => {
      const m = await joinRoom(server, roomId, nickname);
      members.push(m);
      return m;
    };
    /** What the storage holds for a room (bucket listing, or the folder on disk). */
    const stored = async (roomId: string): Promise<string[]> => {
      if (bucket) return (await bucket.list(`${encodeURIComponent(roomId)}/`)).map((o) => o.key);
      const dir = joinPath(server.config.data.dir, 'files', encodeURIComponent(roomId));
      return existsSync(dir) ? readdirSync(dir) : [];
    };

    before(async () => {
      const overrides: Record<string, unknown> = { files: { maxBytes: MAX } };
      if (driver === 's3') {
        s3 = await startS3rver();
        const settings = s3.settings('tutti-files');
        overrides.files = { maxBytes: MAX, driver: 's3', s3: { ...settings, createBucket: true } };
        bucket = new S3Storage(settings);
      }
      server = await startTestServer(overrides);
    });
    after(async () => {
      for (const m of members) m.client.close();
      await server?.stop();
      await bucket?.close();
      await s3?.stop();
    });

    test('an image and a PDF: uploaded, announced in chat, downloaded identical by the other', async () => {
      const { roomId } = await createRoom(server, `Share ${driver}`);
      const ann = await join(roomId, 'Ann');
      const ben = await join(roomId, 'Ben');
      for (const [name, bytes, type] of [
        ['Holiday photo ü.png', png(300_000), 'image/png'],
        ['report.pdf', pdf(1_500_000), 'application/pdf'],
      ] as const) {
        const res = await upload(server, await tokenFor(ann), name, bytes);
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const note = await ben.client.nextNotification(
          'chat.message',
          (d) => d.message.file?.name === name,
        );
        const file = note.message.file!;
        assert.equal(note.message.from.nickname, 'Ann');
        assert.deepEqual(
          { name: file.name, size: file.size, type: file.type },
          { name, size: bytes.length, type },
        );
        assert.equal(file.previewUrl !== undefined, type.startsWith('image/'));
        const dl = await fetch(server.url + file.url);
        assert.equal(dl.status, 200);
        assert.equal(dl.headers.get('content-type'), type);
        assert.equal(dl.headers.get('x-content-type-options'), 'nosniff');
        assert.match(
          dl.headers.get('content-disposition')!,
          /^attachment; filename="[^"]+"; filename\*=UTF-8''/,
        );
        assert.ok(dl.headers.get('content-disposition')!.includes(encodeURIComponent(name)));
        assert.equal(sha(new Uint8Array(await dl.arrayBuffer())), sha(bytes));
        if (file.previewUrl) {
          const preview = await fetch(server.url + file.previewUrl);
          assert.match(preview.headers.get('content-disposition')!, /^inline;/);
          await preview.arrayBuffer();
        }
        // A range request gets exactly those bytes.
        const part = await fetch(server.url + file.url, { headers: { range: 'bytes=1000-1999' } });
        assert.equal(part.status, 206);
        assert.equal(part.headers.get('content-range'), `bytes 1000-1999/${bytes.length}`);
        assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(1000, 2000));
        const bad = await fetch(server.url + file.url, {
          headers: { range: `bytes=${bytes.length}-` },
        });
        assert.equal(bad.status, 416);
      }
      // The late joiner's history carries the file messages with links valid for it.
      const cat = await join(roomId, 'Cat');
      const files = cat.join.history.flatMap((m) => (m.file ? [m.file] : []));
      assert.equal(files.length, 2);
      assert.equal((await fetch(server.url + files[1]!.url)).status, 200);
    });

    test('an oversize file and a forbidden type are refused with readable errors, leaving nothing', async () => {
      const { roomId } = await createRoom(server, `Refusals ${driver}`);
      const ann = await join(roomId, 'Ann');
      const big = await upload(server, await tokenFor(ann), 'big.pdf', pdf(MAX + 10));
      assert.equal(big.status, 413);
      assert.equal(big.body.error, 'PAYLOAD_TOO_LARGE');
      assert.match(String(big.body.message), /too large: the limit is 2 MB/);
      // Disguised executable: the name says PNG, the content says otherwise.
      const exe = Buffer.concat([
        Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]),
        randomBytes(10_000),
      ]);
      const fake = await upload(server, await tokenFor(ann), 'cute-cat.png', exe);
      assert.equal(fake.status, 415);
      assert.equal(fake.body.error, 'UNSUPPORTED_TYPE');
      assert.match(String(fake.body.message), /not allowed/);
      assert.deepEqual(await stored(roomId), []);
      if (driver === 'local') {
        const partial = joinPath(server.config.data.dir, 'files', '.partial');
        assert.deepEqual(existsSync(partial) ? readdirSync(partial) : [], []);
      }
      const history = await ann.client.request('chat.history', {});
      assert.equal(history.messages.length, 0, 'no file message for refused uploads');
    });

    test('an oversize upload from a slow uplink gets its 413 and the body is drained, not reset', async () => {
      const { roomId } = await createRoom(server, `Slow refusal ${driver}`);
      const ann = await join(roomId, 'Ann');
      // The browser reads an early answer only once its upload fails: a reset would end a
      // slow upload (and its progress and cancel button) a few hundred ms in.
      const res = await slowOversizeUpload(server, await tokenFor(ann), 8 * MAX, 25);
      assert.equal(res.status, 413);
      assert.equal(res.dropped, false, 'the server keeps reading the refused body');
      assert.deepEqual(await stored(roomId), []);
    });

    test('uploads and downloads are for members of the room only', async () => {
      const { roomId } = await createRoom(server, `Members ${driver}`);
      const { roomId: otherRoom } = await createRoom(server, `Others ${driver}`);
      const ann = await join(roomId, 'Ann');
      const leaver = await join(roomId, 'Leaver');
      const outsider = await join(otherRoom, 'Outsider');

      assert.equal((await upload(server, undefined, 'a.pdf', pdf(100))).status, 401);
      assert.equal((await upload(server, 'forged.token', 'a.pdf', pdf(100))).status, 401);
      const leaverToken = await tokenFor(leaver);
      await leaver.client.request('room.leave', {});
      const gone = await upload(server, leaverToken, 'a.pdf', pdf(100));
      assert.equal(gone.status, 403);
      assert.equal(gone.body.error, 'NOT_JOINED');
      await assert.rejects(leaver.client.request('files.uploadToken', {}), /NOT_JOINED/);

      const ok = await upload(
        server,
        await tokenFor(ann),
        'notes.txt',
        Buffer.from('hello, ünïcode\n'),
      );
      assert.equal(ok.status, 201);
      const file = ok.body.message!.file!;
      assert.equal(file.type, 'text/plain');
      const path = file.url.split('?')[0]!;
      // Another room's member (with its own genuine access token), a bare link and a forged
      // token are all refused.
      const theirs = await upload(server, await tokenFor(outsider), 'theirs.txt', Buffer.from('x'));
      const outsiderQuery = theirs.body.message!.file!.url.split('?')[1]!;
      assert.equal((await fetch(`${server.url}${path}?${outsiderQuery}`)).status, 403);
      assert.equal((await fetch(`${server.url}${path}`)).status, 403);
      assert.equal((await fetch(`${server.url}${path}?t=abc.def`)).status, 403);
      const annUrl = ok.body.message!.file!.url;
      assert.equal((await fetch(server.url + annUrl)).status, 200);
      // Ann's link stops working once Ann leaves.
      await ann.client.request('room.leave', {});
      const after = await fetch(server.url + annUrl);
      assert.equal(after.status, 403);
      assert.equal(((await after.json()) as { error: string }).error, 'FORBIDDEN');
    });

    test('deleting a room deletes its stored files and its history', async () => {
      const { roomId, ownerSecret } = await createRoom(server, `Doomed ${driver}`);
      const ann = await join(roomId, 'Ann');
      for (const name of ['a.png', 'b.png']) {
        assert.equal((await upload(server, await tokenFor(ann), name, png(1000))).status, 201);
      }
      assert.equal((await stored(roomId)).length, 2);
      await deleteRoom(server, roomId, ownerSecret);
      assert.deepEqual(await stored(roomId), []);
      if (driver === 'local') {
        assert.equal(
          existsSync(joinPath(server.config.data.dir, 'files', encodeURIComponent(roomId))),
          false,
        );
      }
    });
  });
}
