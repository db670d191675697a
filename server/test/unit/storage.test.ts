import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { LocalDiskStorage } from '../../src/files/LocalDiskStorage.ts';
import { S3Storage } from '../../src/files/S3Storage.ts';
import { fileKey, roomPrefix } from '../../src/files/keys.ts';
import { startS3rver } from '../helpers/storageS3rver.ts';
import { storageSuite } from './storage.suite.ts';

// The same contract runs against both drivers; S3 against a real S3-speaking server.
let dir: string;
let s3: Awaited<ReturnType<typeof startS3rver>>;
const open: { close(): Promise<void> }[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tutti-storage-'));
  s3 = await startS3rver();
});
after(async () => {
  await Promise.all(open.map((s) => s.close()));
  await s3.stop();
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
storageSuite('local disk', async () => {
  const s = new LocalDiskStorage(join(dir, `local-${n++}`));
  open.push(s);
  return s;
});
storageSuite('S3 (s3rver)', async () => {
  const s = new S3Storage(s3.settings(`bucket-${n++}`));
  await s.ensureBucket();
  open.push(s);
  return s;
});

it('local disk: deleting a room removes its folder', async () => {
  const root = join(dir, 'folder');
  const s = new LocalDiskStorage(root);
  await s.put(fileKey('r1', 'f'), Readable.from([Buffer.from('x')]));
  assert.ok(existsSync(join(root, 'r1')));
  await s.deletePrefix(roomPrefix('r1'));
  assert.equal(existsSync(join(root, 'r1')), false);
});

it('local disk: partial uploads left by a crashed process are swept at start-up', async () => {
  const root = join(dir, 'sweep');
  const s = new LocalDiskStorage(root);
  await s.put(fileKey('r1', 'kept'), Readable.from([Buffer.from('x')]));
  await mkdir(join(root, '.partial'), { recursive: true });
  await writeFile(join(root, '.partial', 'orphan'), 'half a file');
  await s.sweepPartials();
  assert.equal(existsSync(join(root, '.partial')), false);
  assert.deepEqual(
    (await s.list('')).map((o) => o.key),
    ['r1/kept'],
  );
});
