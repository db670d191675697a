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
import { stallGuard } from './stall.ts';
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
  /** Connecting is bounded by this (default 5 s). */
  connectTimeoutMs?: number;
  /** A request without response headers, or a socket silent, this long fails (default 30 s). */
  requestTimeoutMs?: number;
  /** A download whose body stops this long ends with an error (default 30 s). */
  stallTimeoutMs?: number;
}

/** After giving up on a write, how long a late copy of it may still land in the store. */
const LATE_WRITE_GRACE_MS = 5_000;

/**
 * Objects in an S3(-compatible) bucket. Uploads stream through lib-storage's Upload
 * (multipart past 5 MiB: at most a few parts in memory, whatever the file size).
 */
export class S3Storage implements Storage {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #stallMs: number;
  readonly #timeoutMs: number;
  /** Background deletes of objects a failed upload may have left (storage was away). */
  readonly #cleanups = new Set<NodeJS.Timeout>();

  constructor(settings: S3Settings) {
    this.#bucket = settings.bucket;
    this.#prefix = settings.prefix ?? '';
    this.#timeoutMs = settings.requestTimeoutMs ?? 30_000;
    this.#stallMs = settings.stallTimeoutMs ?? 30_000;
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
      // connecting is bounded, so is the wait for an answer (an error, not the SDK's
      // default warning), and so is a socket that goes silent mid-request or mid-body.
      requestHandler: {
        connectionTimeout: settings.connectTimeoutMs ?? 5_000,
        requestTimeout: this.#timeoutMs,
        throwOnRequestTimeout: true,
        socketTimeout: this.#timeoutMs,
      },
      maxAttempts: 2,
    });
  }

  /** Creates the bucket when it does not exist (tests, single-box setups). */
  async ensureBucket(): Promise<void> {
    try {
      await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        await this.#client.send(new CreateBucketCommand({ Bucket: this.#bucket }));
      } catch (createErr) {
        // Another node of the cluster, starting at the same moment, created it first.
        const name = (createErr as { name?: string }).name;
        if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw createErr;
      }
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
    // An error of the body is the caller's (the client went away); any other is the store's.
    let bodyError: unknown;
    body.once('error', (err) => (bodyError = err));
    const feeding = pipeline(body, counter);
    try {
      await Promise.all([upload.done(), feeding]);
    } catch (err) {
      await upload.abort().catch(() => {});
      counter.destroy();
      const failure = bodyError ?? storageError(err);
      // The store was away: a write we gave up on may still land later, and a delete now
      // would only wait for it too. Delete in the background until that has passed.
      if (failure instanceof TuttiError && failure.code === 'UNAVAILABLE') {
        this.#cleanUpLater(key);
      } else {
        await this.delete(key).catch(() => this.#cleanUpLater(key));
      }
      throw failure;
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
      // In Node the SDK's body is an http.IncomingMessage (a Readable). A body that stops
      // mid-way ends with an error instead of holding the download open.
      const source = res.Body as Readable;
      const guard = stallGuard(this.#stallMs, 'file storage stalled');
      pipeline(source, guard).catch(() => {});
      return guard;
    } catch (err) {
      if (isNotFound(err)) throw new TuttiError('NOT_FOUND', 'no such file');
      throw storageError(err);
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
      throw storageError(err);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#client.send(
        new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }),
      );
    } catch (err) {
      throw storageError(err);
    }
  }

  /**
   * Deletes `key` until it works (back-off up to 30 s, for up to an hour), then once more
   * after the grace in which a write we gave up on could still land.
   */
  #cleanUpLater(key: string, attempt = 0, confirmed = false): void {
    if (attempt > 200) return;
    const delay = confirmed
      ? Math.max(LATE_WRITE_GRACE_MS, 2 * this.#timeoutMs)
      : Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
    const timer = setTimeout(() => {
      this.#cleanups.delete(timer);
      this.delete(key).then(
        () => {
          if (!confirmed) this.#cleanUpLater(key, attempt + 1, true);
        },
        () => this.#cleanUpLater(key, attempt + 1, confirmed),
      );
    }, delay);
    timer.unref();
    this.#cleanups.add(timer);
  }

  async deletePrefix(prefix: string): Promise<number> {
    let deleted = 0;
    // Listing again after each batch: deleting while paginating could skip keys.
    for (;;) {
      const batch = await this.#listPage(prefix);
      if (batch.length === 0) return deleted;
      const res = await this.#client
        .send(
          new DeleteObjectsCommand({
            Bucket: this.#bucket,
            Delete: { Objects: batch.map((o) => ({ Key: this.#prefix + o.key })), Quiet: true },
          }),
        )
        .catch(rethrowStorageError);
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
      const res = await this.#client
        .send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: this.#prefix + prefix,
            ...(token && { ContinuationToken: token }),
          }),
        )
        .catch(rethrowStorageError);
      for (const o of res.Contents ?? []) {
        if (o.Key) out.push({ key: o.Key.slice(this.#prefix.length), size: o.Size ?? 0 });
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  async #listPage(prefix: string): Promise<StoredObject[]> {
    const res = await this.#client
      .send(
        new ListObjectsV2Command({
          Bucket: this.#bucket,
          Prefix: this.#prefix + prefix,
          MaxKeys: 1000,
        }),
      )
      .catch(rethrowStorageError);
    return (res.Contents ?? []).flatMap((o) =>
      o.Key ? [{ key: o.Key.slice(this.#prefix.length), size: o.Size ?? 0 }] : [],
    );
  }

  async close(): Promise<void> {
    for (const timer of this.#cleanups) clearTimeout(timer);
    this.#cleanups.clear();
    this.#client.destroy();
  }
}

/**
 * What a failed call means to a caller: the store unreachable, timing out or failing on
 * its side is UNAVAILABLE (try again); an answer the store gave stays as it is.
 */
function storageError(err: unknown): unknown {
  if (err instanceof TuttiError) return err;
  if (err instanceof S3ServiceException && (err.$metadata.httpStatusCode ?? 500) < 500) return err;
  return new TuttiError('UNAVAILABLE', 'file storage is unavailable, try again shortly');
}

function rethrowStorageError(err: unknown): never {
  throw storageError(err);
}

function isNotFound(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return (
    err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey' || err.name === 'NotFound'
  );
}
