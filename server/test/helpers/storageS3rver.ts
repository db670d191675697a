import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// s3rver ships no types; the small surface used here is typed below.
import S3rverModule from 's3rver';
import type { S3Settings } from '../../src/files/S3Storage.ts';

interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (opts: Record<string, unknown>) => S3rverInstance;

/** A real S3-speaking server on 127.0.0.1:<random port>, backed by a temp dir. */
export async function startS3rver(): Promise<{
  endpoint: string;
  /** Where s3rver keeps objects and multipart parts. */
  dir: string;
  settings: (bucket: string) => S3Settings;
  stop(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'tutti-s3rver-'));
  const S3rver = S3rverModule as unknown as S3rverCtor;
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    dir,
    settings: (bucket) => ({
      bucket,
      region: 'us-east-1',
      endpoint,
      forcePathStyle: true,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      checksum: 'WHEN_REQUIRED',
    }),
    async stop() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
