import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorCodeOf } from '@tutti/protocol';
import { S3Storage } from '../../src/files/S3Storage.ts';
import { startTestServer, type TestServer } from '../../../test/helpers/startServer.ts';
import { createRoom, joinRoom, type Member } from '../helpers/chatClients.ts';
import { startS3rver } from '../helpers/storageS3rver.ts';
import { streamingUpload, uploadFile, uploadToken } from '../helpers/uploads.ts';

// Uploads are charged to the sender's chat budget, bounded per member and per room in
// stored bytes, and at most two stream at once per member. Both storage drivers.

const KB = 1024;
const png = (n: number) =>
  Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(n)]);

for (const driver of ['local', 's3'] as const) {
  describe(`upload quotas and rate (${driver} storage)`, () => {
    let server: TestServer;
    let s3: Awaited<ReturnType<typeof startS3rver>> | undefined;
    let bucket: S3Storage | undefined;
    const members: Member[] = [];
    const join = async (roomId: string, nickname: string) => {
      const m = await joinRoom(server, roomId, nickname);
      members.push(m);
      return m;
    };
    const stored = async (roomId: string): Promise<string[]> => {
      if (bucket) return (await bucket.list(`${encodeURIComponent(roomId)}/`)).map((o) => o.key);
      const dir = joinPath(server.config.data.dir, 'files', encodeURIComponent(roomId));
      return existsSync(dir) ? readdirSync(dir) : [];
    };

    before(async () => {
      const files: Record<string, unknown> = {
        maxBytes: 2048 * KB,
        maxBytesPerPeer: 1024 * KB,
        maxBytesPerRoom: 1536 * KB,
        maxConcurrentUploadsPerPeer: 2,
      };
      if (driver === 's3') {
        s3 = await startS3rver();
        const settings = s3.settings('tutti-quota');
        Object.assign(files, { driver: 's3', s3: { ...settings, createBucket: true } });
        bucket = new S3Storage(settings);
      }
      server = await startTestServer({ files, chat: { ratePerSecond: 0.2, burst: 4 } });
    });
    after(async () => {
      for (const m of members) m.client.close();
      await server?.stop();
      await bucket?.close();
      await s3?.stop();
    });

    test('each upload costs a chat message: past the budget, RATE_LIMITED, chat too', async () => {
      const { roomId } = await createRoom(server, 'Budget');
      const ann = await join(roomId, 'Ann');
      const token = await uploadToken(ann);
      for (let i = 0; i < 4; i++) {
        const ok = await uploadFile(server, token, `p${i}.png`, png(KB));
        assert.equal(ok.status, 201, JSON.stringify(ok.body));
      }
      const refused = await uploadFile(server, token, 'p4.png', png(KB));
      assert.equal(refused.status, 429);
      assert.equal(refused.body.error, 'RATE_LIMITED');
      assert.match(String(refused.body.message), /at most .* per second/);
      await assert.rejects(
        ann.client.request('chat.send', { text: 'and a message' }),
        (e) => errorCodeOf(e) === 'RATE_LIMITED',
      );
      assert.equal((await stored(roomId)).length, 4, 'the refused upload left nothing');
    });

    test('at most two uploads stream at once per member', async () => {
      const { roomId } = await createRoom(server, 'Parallel');
      const dan = await join(roomId, 'Dan');
      const token = await uploadToken(dan);
      const slow = [0, 1].map((i) => streamingUpload(server, token, `slow${i}.png`));
      for (const u of slow) u.send(png(10 * KB));
      await sleep(300); // both are streaming
      const third = await uploadFile(server, token, 'third.png', png(KB));
      assert.equal(third.status, 429);
      assert.equal(third.body.error, 'RATE_LIMITED');
      assert.match(String(third.body.message), /at most 2 uploads at once/);
      for (const u of slow) u.finish();
      for (const u of slow) assert.equal((await u.answer).status, 201);
      assert.equal((await stored(roomId)).length, 2);
    });

    test('per-member and per-room byte quotas refuse with a clear message, leaving nothing', async () => {
      const { roomId } = await createRoom(server, 'Quota');
      const [ann, ben, cat] = [
        await join(roomId, 'Ann'),
        await join(roomId, 'Ben'),
        await join(roomId, 'Cat'),
      ];
      const big = () => png(600 * KB);
      assert.equal((await uploadFile(server, await uploadToken(ann), 'a1.png', big())).status, 201);
      // Ann's second would pass her 1 MB: refused while streaming (no size declared)...
      const streamed = streamingUpload(server, await uploadToken(ann), 'a2.png');
      streamed.send(big());
      streamed.finish();
      const over = await streamed.answer;
      assert.equal(over.status, 413);
      assert.equal(over.body.error, 'PAYLOAD_TOO_LARGE');
      assert.match(String(over.body.message), /upload quota reached: you may share at most 1 MB/);
      // ...and refused before the body when the declared size tells.
      const declared = await uploadFile(server, await uploadToken(ann), 'a3.png', big());
      assert.equal(declared.status, 413);
      assert.equal((await stored(roomId)).length, 1);
      // The room holds 1.5 MB: Ben fits, Cat no longer does.
      assert.equal((await uploadFile(server, await uploadToken(ben), 'b1.png', big())).status, 201);
      const full = await uploadFile(server, await uploadToken(cat), 'c1.png', big());
      assert.equal(full.status, 413);
      assert.equal(full.body.error, 'PAYLOAD_TOO_LARGE');
      assert.match(String(full.body.message), /room storage full: a room holds at most 1.5 MB/);
      assert.equal((await stored(roomId)).length, 2, 'refusals left nothing behind');
      // Small files still fit in what is left.
      assert.equal(
        (await uploadFile(server, await uploadToken(cat), 'c2.png', png(KB))).status,
        201,
      );
    });
  });
}
