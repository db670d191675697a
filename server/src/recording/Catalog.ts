import { Readable } from 'node:stream';
import type { Logger } from '../kernel/log.ts';
import { roomPrefix } from '../files/keys.ts';
import type { Storage } from '../files/Storage.ts';
import { MANIFEST, recordingKey, recordSchema, type RecordingRecord } from './record.ts';
import { safeParseInput } from '@tutti/protocol/schemas';

/**
 * The finished recordings of each room: their manifests live in the storage beside the
 * files (so they survive a restart), read once per room and kept in memory.
 */
export class Catalog {
  readonly #storage: Storage;
  readonly #log: Logger;
  readonly #rooms = new Map<string, Promise<RecordingRecord[]>>();

  constructor(storage: Storage, log: Logger) {
    this.#storage = storage;
    this.#log = log;
  }

  list(roomId: string): Promise<RecordingRecord[]> {
    let loaded = this.#rooms.get(roomId);
    if (!loaded) {
      loaded = this.#load(roomId);
      this.#rooms.set(roomId, loaded);
      loaded.catch(() => this.#rooms.delete(roomId));
    }
    return loaded;
  }

  async find(roomId: string, id: string): Promise<RecordingRecord | undefined> {
    return (await this.list(roomId)).find((r) => r.id === id);
  }

  async add(record: RecordingRecord): Promise<void> {
    const body = Buffer.from(JSON.stringify(record));
    await this.#storage.put(
      recordingKey(record.roomId, record.id, MANIFEST),
      Readable.from([body]),
    );
    (await this.list(record.roomId)).push(record);
  }

  /** The room was deleted: its recordings go with it. */
  async deleteRoom(roomId: string): Promise<void> {
    this.#rooms.delete(roomId);
    await this.#storage.deletePrefix(roomPrefix(roomId));
  }

  async #load(roomId: string): Promise<RecordingRecord[]> {
    const objects = await this.#storage.list(roomPrefix(roomId));
    const records: RecordingRecord[] = [];
    for (const o of objects.filter((o) => o.key.endsWith(`/${MANIFEST}`))) {
      try {
        const chunks: Buffer[] = [];
        for await (const chunk of await this.#storage.get(o.key)) chunks.push(chunk as Buffer);
        const parsed = safeParseInput(
          recordSchema,
          JSON.parse(Buffer.concat(chunks).toString('utf8')),
        );
        if (parsed.success && parsed.data.roomId === roomId) records.push(parsed.data);
        else this.#log.warn({ key: o.key }, 'recording manifest ignored (invalid)');
      } catch (err) {
        this.#log.warn({ err, key: o.key }, 'recording manifest unreadable');
      }
    }
    return records.sort((a, b) => a.startedAt - b.startedAt);
  }
}
