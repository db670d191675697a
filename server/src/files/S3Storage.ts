import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TuttiError } from '@tutti/protocol';
import { countBytes } from './countBytes.ts';
import { assertSafeKey } from './keys.ts';
import type { ByteRange, Storage, StoredObject } from './Storage.ts';

export interface S3Settings {
  bucket: string;
  region: string;
  endpoint?: string | undefined;
  forcePathStyle: boolean;
  /** Both or neither; neither falls back to the SDK's chain (AWS_* env, profiles, IRSA). */
  accessKeyId?: string | undefined;
  secretAccessKey?: string | undefined;
  checksum: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED';
  /** Key prefix inside the bucket, e.g. "tutti/"; empty by default. */
  prefix?: string;
}

/**
 * Objects in an S3(-compatible) bucket. Uploads stream through lib-storage's Upload
 * (multipart past 5 MiB: at most a few parts in memory, whatever the file size).
 */
export class S3Storage implements Storage {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(settings: S3Settings) {
    this.#bucket = settings.bucket;
    this.#prefix = settings.prefix ?? '';
    this.#client = new S3Client({
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      ...(settings.endpoint && { endpoint: settings.endpoint }),
      ...(settings.accessKeyId &&
        settings.secretAccessKey && {
          credentials: {
            accessKeyId: settings.accessKeyId,
            secretAccessKey: settings.secretAccessKey,
          },
        }),
      // WHEN_REQUIRED: many S3-compatible servers reject aws-chunked CRC32 upload bodies.
      requestChecksumCalculation: settings.checksum,
      responseChecksumValidation: settings.checksum,
      // A store that stops answering must not hold an upload or a download forever:
      // connecting is bounded, and so is a socket that goes silent mid-request.
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
    });
  }

  /** Creates the bucket when it does not exist (tests, single-box setups). */
  async ensureBucket(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.#client.send(new CreateBucketCommand({ Bucket: this.#bucket }));
    }
  }

  #key(key: string): string {
    assertSafeKey(key);
    return this.#prefix + key;
  }

  async put(key: string, body: Readable): Promise<{ size: number }> {
    const Key = this.#key(key);
    const counter = countBytes();
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.#bucket, Key, Body: counter },
      queueSize: 2,
      // Abort the multipart upload on failure: no orphaned parts left in the bucket.
      leavePartsOnError: false,
    });
    const feeding = pipeline(body, counter);
    try {
      await Promise.all([upload.done(), feeding]);
    } catch (err) {
      await upload.abort().catch(() => {});
      counter.destroy();
      await this.delete(key).catch(() => {});
      throw err;
    }
    return { size: counter.bytes };
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const res = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key(key),
          ...(range && { Range: `bytes=${range.start}-${range.end}` }),
        }),
      );
      // In Node the SDK's body is an http.IncomingMessage (a Readable).
      return res.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new TuttiError('NOT_FOUND', 'no such file');
      throw err;
    }
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    try {
      const res = await this.#client.send(
        new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }),
      );
      return { key, size: res.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }));
  }

  async deletePrefix(prefix: string): Promise<number> {
    let deleted = 0;
    // Listing again after each batch: deleting while paginating could skip keys.
    for (;;) {
      const batch = await this.#listPage(prefix);
      if (batch.length === 0) return deleted;
      const res = await this.#client.send(
        new DeleteObjectsCommand({
          Bucket: this.#bucket,
          Delete: { Objects: batch.map((o) => ({ Key: this.#prefix + o.key })), Quiet: true },
        }),
      );
      if (res.Errors && res.Errors.length > 0) {
        const first = res.Errors[0];
        throw new Error(`S3 delete failed for ${first?.Key}: ${first?.Code} ${first?.Message}`);
      }
      deleted += batch.length;
    }
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      const res = await this.#client.send(
        new ListObjectsV2Command({
          Bucket: this.#bucket,
          Prefix: this.#prefix + prefix,
          ...(token && { ContinuationToken: token }),
        }),
      );
      for (const o of res.Contents ?? []) {
        if (o.Key) out.push({ key: o.Key.slice(this.#prefix.length), size: o.Size ?? 0 });
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  async #listPage(prefix: string): Promise<StoredObject[]> {
    const res = await this.#client.send(
      new ListObjectsV2Command({
        Bucket: this.#bucket,
        Prefix: this.#prefix + prefix,
        MaxKeys: 1000,
      }),
    );
    return (res.Contents ?? []).flatMap((o) =>
      o.Key ? [{ key: o.Key.slice(this.#prefix.length), size: o.Size ?? 0 }] : [],
    );
  }

  async close(): Promise<void> {
    this.#client.destroy();
  }
}

function isNotFound(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return (
    err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey' || err.name === 'NotFound'
  );
}
