import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Producer } from 'mediasoup/types';
import type { RecordingState } from '@tutti/protocol';
import type { Storage } from '../files/Storage.ts';
import type { Logger } from '../kernel/log.ts';
import type { ProducerAppData } from '../rooms/mediaTypes.ts';
import type { Room } from '../rooms/Room.ts';
import { compositeArgs } from './composite.ts';
import type { PortPool } from './portPool.ts';
import { run } from './process.ts';
import { recordingKey, type RecordingRecord } from './record.ts';
import { TrackWriter, type TrackFile } from './TrackWriter.ts';

export interface SessionDeps {
  ffmpeg: string;
  ip: string;
  workerPorts: [number, number];
  ffmpegPorts: PortPool;
  /** Local scratch folder; the session writes under `<tmp>/<id>/`. */
  tmpDir: string;
  storage: Storage;
  maxTracks: number;
  maxDurationMs: number;
  compositeTimeoutMs: number;
  /** An upload that takes longer than this fails the recording (not a hang). */
  uploadTimeoutMs: number;
  log: Logger;
  /** The state changed (a track joined or died): tell the room. */
  changed: () => void;
}

/**
 * One room's recording, from start to the stored files: a TrackWriter per producer of the
 * room (the ones there at the start and every one made later: late joiners, a screen
 * share), then on stop the composite, the uploads and the record.
 */
export class Session {
  readonly id = randomUUID();
  readonly roomId: string;
  /** Reset once the first writers run: the recording (and the composite) starts there. */
  startedAt = Date.now();
  readonly #room: Room;
  readonly #deps: SessionDeps;
  readonly #dir: string;
  readonly #writers = new Map<string, TrackWriter>();
  readonly #starting = new Set<Promise<void>>();
  readonly #errors: string[] = [];
  readonly #log: Logger;
  readonly #limit: NodeJS.Timeout;
  #index = 0;
  #stopped = false;
  readonly #onProduced = (producer: Producer<ProducerAppData>) => this.#add(producer);

  constructor(room: Room, deps: SessionDeps, onLimit: () => void) {
    this.roomId = room.id;
    this.#room = room;
    this.#deps = deps;
    this.#dir = join(deps.tmpDir, this.id);
    this.#log = deps.log.child({ recording: this.id, roomId: room.id });
    this.#limit = setTimeout(onLimit, deps.maxDurationMs);
    this.#limit.unref();
  }

  /** Writers' pids (tests kill one to see a crash handled). */
  get pids(): number[] {
    return [...this.#writers.values()].flatMap((w) => (w.pid === undefined ? [] : [w.pid]));
  }

  state(): RecordingState {
    return {
      active: !this.#stopped,
      startedAt: this.#stopped ? null : this.startedAt,
      tracks: this.#writers.size,
      error: this.#errors.at(-1) ?? null,
    };
  }

  /** Every producer in the room now, and each new one until stop. */
  async start(): Promise<void> {
    this.#room.on('produced', this.#onProduced);
    for (const member of this.#room.members()) {
      for (const producer of member.media.producers()) this.#add(producer);
    }
    await Promise.allSettled([...this.#starting]);
    this.startedAt = Date.now();
    this.#log.info({ tracks: this.#writers.size }, 'recording started');
  }

  #add(producer: Producer<ProducerAppData>): void {
    if (this.#stopped || producer.closed || this.#writers.has(producer.id)) return;
    if (this.#writers.size >= this.#deps.maxTracks) {
      this.#fail(`track limit (${this.#deps.maxTracks}) reached: a track is not recorded`);
      return;
    }
    const router = this.#room.media.originRouter(producer.id);
    if (!router) return;
    const writer = new TrackWriter(producer, this.#index++, {
      ...this.#deps,
      dir: this.#dir,
      maxMs: this.#deps.maxDurationMs + 60_000,
    });
    this.#writers.set(producer.id, writer);
    const started = writer
      .start(
        router,
        () => this.startedAt,
        (why, detail) => {
          if (why === 'writer-died') this.#fail(`a track writer stopped: ${detail}`);
          else this.#fail(`a track was cut short: ${detail}`);
        },
      )
      .then(
        () => this.#deps.changed(),
        (err: unknown) => {
          this.#writers.delete(producer.id);
          if (!producer.closed) {
            this.#log.warn({ err, producerId: producer.id }, 'track not recorded');
            this.#fail('a track could not be recorded');
          }
        },
      )
      .finally(() => this.#starting.delete(started));
    this.#starting.add(started);
  }

  #fail(message: string): void {
    this.#errors.push(message);
    this.#deps.changed();
  }

  /** Stops the writers, builds the composite, stores everything; the finished record. */
  async stop(): Promise<RecordingRecord> {
    this.#stopped = true;
    const durationMs = Date.now() - this.startedAt;
    clearTimeout(this.#limit);
    this.#room.off('produced', this.#onProduced);
    await Promise.allSettled([...this.#starting]);
    const ended = await Promise.all([...this.#writers.values()].map((w) => w.stop()));
    const files = ended.filter((f): f is TrackFile => f !== undefined);
    const record: RecordingRecord = {
      id: this.id,
      roomId: this.roomId,
      startedAt: this.startedAt,
      durationMs,
      status: this.#errors.length > 0 || files.some((f) => f.end !== 'ok') ? 'partial' : 'ready',
      error: this.#errors.at(-1) ?? null,
      composite: null,
      tracks: [],
    };
    try {
      // Rewritten once without transcoding: a writer that died, or one stopped while its
      // input was silent, leaves no index or duration; this gives every file both.
      for (const f of files) await this.#repair(f);
      const compositeName = 'composite.mp4';
      const compositePath = join(this.#dir, compositeName);
      try {
        await run(this.#deps.ffmpeg, compositeArgs(files, durationMs, compositePath), {
          timeoutMs: Math.max(this.#deps.compositeTimeoutMs, 3 * durationMs),
          nice: 10,
        });
        record.composite = { name: compositeName, size: await this.#upload(compositeName) };
      } catch (err) {
        this.#log.error({ err }, 'composite failed');
        record.status = 'partial';
        record.error = `the composite could not be made: ${message(err)}`;
      }
      for (const f of files) {
        const { name, kind, peerId, source, offsetMs } = f;
        record.tracks.push({
          name,
          kind,
          peerId,
          source,
          offsetMs,
          size: await this.#upload(name),
        });
      }
    } catch (err) {
      // Storage full or unreachable: the recording is lost, and the room is told why.
      this.#log.error({ err }, 'recording not stored');
      record.status = 'failed';
      record.error = `the recording could not be stored: ${message(err)}`;
      record.composite = null;
    } finally {
      await rm(this.#dir, { recursive: true, force: true }).catch(() => {});
    }
    this.#log.info({ status: record.status, durationMs, tracks: files.length }, 'recording ended');
    return record;
  }

  async #repair(f: TrackFile): Promise<void> {
    const fixed = f.path.replace(/\.(\w+)$/, '.fixed.$1');
    try {
      await run(
        this.#deps.ffmpeg,
        ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-i', f.path, '-c', 'copy', fixed],
        { timeoutMs: 60_000 },
      );
      await rename(fixed, f.path);
    } catch (err) {
      this.#log.warn({ err, track: f.name }, 'track file not repaired; kept as written');
    }
  }

  async #upload(name: string): Promise<number> {
    const key = recordingKey(this.roomId, this.id, name);
    const stream = createReadStream(join(this.#dir, name));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        stream.destroy();
        reject(new Error(`upload of ${name} timed out`));
      }, this.#deps.uploadTimeoutMs);
    });
    try {
      return (await Promise.race([this.#deps.storage.put(key, stream), timeout])).size;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The room is gone (deleted, server stopping): end everything, keep nothing. */
  async abort(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#limit);
    this.#room.off('produced', this.#onProduced);
    await Promise.allSettled([...this.#starting]);
    await Promise.all([...this.#writers.values()].map((w) => w.stop()));
    await rm(this.#dir, { recursive: true, force: true }).catch(() => {});
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
