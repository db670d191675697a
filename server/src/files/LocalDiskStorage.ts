import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TuttiError } from '@tutti/protocol';
import { countBytes } from './countBytes.ts';
import { assertSafeKey } from './keys.ts';
import type { ByteRange, Storage, StoredObject } from './Storage.ts';

/**
 * Files under `<root>/<room>/<file>`. Uploads go to `<root>/.partial/` first and are
 * renamed into place only when complete, so a refused upload leaves nothing in the room.
 */
export class LocalDiskStorage implements Storage {
  readonly #root: string;
  readonly #partial: string;

  constructor(root: string) {
    this.#root = root;
    this.#partial = join(root, '.partial');
  }

  /**
   * Drops partial uploads a previous process left behind (it crashed mid-upload). Call at
   * start-up, before serving: one process owns a local files folder.
   */
  async sweepPartials(): Promise<void> {
    await rm(this.#partial, { recursive: true, force: true });
  }

  #path(key: string): string {
    assertSafeKey(key);
    return join(this.#root, ...key.split('/'));
  }

  async put(key: string, body: Readable): Promise<{ size: number }> {
    const target = this.#path(key);
    await mkdir(this.#partial, { recursive: true });
    const temp = join(this.#partial, randomUUID());
    const counter = countBytes();
    try {
      await pipeline(body, counter, createWriteStream(temp, { flags: 'wx' }));
      await mkdir(dirname(target), { recursive: true });
      await rename(temp, target);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw err;
    }
    return { size: counter.bytes };
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.#path(key);
    if (!(await this.stat(key))) throw new TuttiError('NOT_FOUND', 'no such file');
    return createReadStream(path, range ? { start: range.start, end: range.end } : {});
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    try {
      const s = await stat(this.#path(key));
      return s.isFile() ? { key, size: s.size } : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<number> {
    const found = await this.list(prefix);
    // A room prefix ("room/") is a folder: remove it whole, including empty leftovers.
    if (prefix.endsWith('/')) {
      assertSafeKey(prefix, true);
      await rm(join(this.#root, ...prefix.split('/').filter(Boolean)), {
        recursive: true,
        force: true,
      });
    } else {
      await Promise.all(found.map((o) => this.delete(o.key)));
    }
    return found.length;
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      for (const e of entries) {
        if (rel === '' && e.name === '.partial') continue;
        const key = rel + e.name;
        if (e.isDirectory()) {
          // Only descend where the prefix can still match.
          if (prefix.startsWith(key + '/') || (key + '/').startsWith(prefix)) {
            await walk(join(dir, e.name), key + '/');
          }
        } else if (e.isFile() && key.startsWith(prefix)) {
          out.push({ key, size: (await stat(join(dir, e.name))).size });
        }
      }
    };
    await walk(this.#root, '');
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  async close(): Promise<void> {}
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
