import type { Readable } from 'node:stream';

export interface StoredObject {
  key: string;
  size: number;
}

/** Inclusive byte range, already resolved against the object's size. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where shared files' bytes live. Keys are `<room>/<file>` (see keys.ts); everything is
 * streamed, never buffered whole. Local disk and S3 implement it and pass one test suite.
 */
export interface Storage {
  /**
   * Streams `body` to `key`. The object appears only when the stream ends cleanly; if the
   * stream errors, nothing is left behind and the error is rethrown.
   */
  put(key: string, body: Readable): Promise<{ size: number }>;
  /** The whole object, or `range` of it. Rejects with TuttiError NOT_FOUND when absent. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  stat(key: string): Promise<StoredObject | undefined>;
  delete(key: string): Promise<void>;
  /** Deletes every object under `prefix` (e.g. a whole room); returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  list(prefix: string): Promise<StoredObject[]>;
  close(): Promise<void>;
}
