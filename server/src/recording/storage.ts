import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from '@tutti/config';
import { LocalDiskStorage } from '../files/LocalDiskStorage.ts';
import { S3Storage } from '../files/S3Storage.ts';
import type { ByteRange, Storage, StoredObject } from '../files/Storage.ts';

/**
 * The files Storage driver (local disk or S3, as `files.driver` says) for recordings:
 * `<data.dir>/recordings/` on disk, keys under `recordings/` in the bucket, so they never
 * mix with shared files.
 */
export function recordingStorage(config: Config): Storage {
  if (config.files.driver === 's3') {
    const s3 = new S3Storage({ ...config.files.s3, stallTimeoutMs: config.files.stallTimeoutMs });
    return new PrefixedStorage(s3, 'recordings/');
  }
  return new LocalDiskStorage(join(config.data.dir, 'recordings'));
}

/** Another Storage's objects under a fixed key prefix. */
class PrefixedStorage implements Storage {
  readonly #inner: Storage;
  readonly #prefix: string;

  constructor(inner: Storage, prefix: string) {
    this.#inner = inner;
    this.#prefix = prefix;
  }

  put(key: string, body: Readable): Promise<{ size: number }> {
    return this.#inner.put(this.#prefix + key, body);
  }
  get(key: string, range?: ByteRange): Promise<Readable> {
    return this.#inner.get(this.#prefix + key, range);
  }
  async stat(key: string): Promise<StoredObject | undefined> {
    const o = await this.#inner.stat(this.#prefix + key);
    return o && { key, size: o.size };
  }
  delete(key: string): Promise<void> {
    return this.#inner.delete(this.#prefix + key);
  }
  deletePrefix(prefix: string): Promise<number> {
    return this.#inner.deletePrefix(this.#prefix + prefix);
  }
  async list(prefix: string): Promise<StoredObject[]> {
    const found = await this.#inner.list(this.#prefix + prefix);
    return found.map((o) => ({ key: o.key.slice(this.#prefix.length), size: o.size }));
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
}
