import { join } from 'node:path';
import type { Config } from '@tutti/config';
import {
  IDLE_RECORDING,
  TuttiError,
  type RecordingItem,
  type RecordingJoinExtras,
  type RecordingState,
  type Role,
} from '@tutti/protocol';
import type { Storage } from '../files/Storage.ts';
import type { TokenSigner } from '../files/tokens.ts';
import type { Logger } from '../kernel/log.ts';
import type { RoomRegistry } from '../rooms/RoomRegistry.ts';
import type { Catalog } from './Catalog.ts';
import { recordingRefusal, requireControlBy, requireRecordingControl } from './policy.ts';
import type { LocalRecording, RemoteRecording } from './remote.ts';
import { PortPool, splitRange } from './portPool.ts';
import { itemFor, type RecordingRecord } from './record.ts';
import { Session } from './Session.ts';

export interface RecorderDeps {
  config: Config;
  rooms: RoomRegistry;
  storage: Storage;
  catalog: Catalog;
  tokens: TokenSigner;
  log: Logger;
  /** Told when a room's recording starts and when it is stored (webhooks). */
  events?: (event: 'recording_started' | 'recording_finished', data: RecordingEvent) => void;
  /** The room's recording on the cluster's other nodes (none on a single node). */
  remote?: () => RemoteRecording | undefined;
}

/** What a recording event says (webhooks: docs/admin-api.md). */
export interface RecordingEvent extends Record<string, unknown> {
  room: { id: string };
  recording?: { id: string; status: string; durationMs: number; tracks: number };
}

/**
 * This node's recordings: at most `recording.maxConcurrent` rooms at once (finishing ones
 * count: their composite is the expensive part), one Session each. Members hear
 * `recording.state` whenever it changes and `recording.item` when a recording is stored.
 */
export class Recorder implements LocalRecording {
  readonly #deps: RecorderDeps;
  readonly #sessions = new Map<string, Session>();
  /** Sessions stopping (composite, uploads), by room. */
  readonly #finishing = new Map<string, Promise<RecordingRecord>>();
  /** The last abnormal end per room, until the next start (what late joiners are told). */
  readonly #lastError = new Map<string, string>();
  readonly #ports: PortPool;
  readonly #workerPorts: [number, number];
  readonly #log: Logger;

  constructor(deps: RecorderDeps) {
    this.#deps = deps;
    const r = deps.config.recording;
    const { ffmpeg, worker } = splitRange(r.portMin, r.portMax);
    this.#ports = new PortPool(ffmpeg[0], ffmpeg[1]);
    this.#workerPorts = worker;
    this.#log = deps.log;
  }

  /** Writers' pids of a room's recording (tests). */
  pidsOf(roomId: string): number[] {
    return this.#sessions.get(roomId)?.pids ?? [];
  }

  /** The room's recording as its members see it: this node's, else another node's. */
  state(roomId: string): RecordingState {
    if (this.#sessions.has(roomId)) return this.localState(roomId);
    const there = this.#remote()?.elsewhere(roomId);
    if (there?.state.active) return there.state;
    if (there && !this.#lastError.has(roomId)) return there.state; // How it ended there.
    return this.localState(roomId);
  }

  /** This node's own recording of the room (what it announces to the other nodes). */
  localState(roomId: string): RecordingState {
    const s = this.#sessions.get(roomId);
    if (s) return s.state();
    return { ...IDLE_RECORDING, error: this.#lastError.get(roomId) ?? null };
  }

  async extras(roomId: string, peerId: string): Promise<RecordingJoinExtras> {
    const token = this.#token(roomId, peerId);
    // Recording on another node since before this one heard of the room: ask (bounded).
    await this.#remote()
      ?.catchUp(roomId)
      .catch((err: unknown) => this.#log.warn({ err, roomId }, 'recording: no catch-up'));
    const records = await this.#deps.catalog.list(roomId);
    return { recording: this.state(roomId), recordings: records.map((r) => itemFor(r, token)) };
  }

  async start(
    roomId: string,
    memberId: string,
    ownerSecret: string | undefined,
  ): Promise<RecordingState> {
    const { config, rooms } = this.#deps;
    const room = rooms.require(roomId);
    requireRecordingControl(room, memberId, ownerSecret);
    const refusal = recordingRefusal(room);
    if (refusal) throw new TuttiError('FORBIDDEN', refusal);
    if (!config.recording.enabled) throw new TuttiError('FORBIDDEN', 'recording is disabled here');
    if (this.#sessions.has(roomId) || this.#finishing.has(roomId)) {
      throw new TuttiError('INVALID_REQUEST', 'this room is already being recorded');
    }
    if (this.#remote()?.elsewhere(roomId)?.state.active) {
      throw new TuttiError('INVALID_REQUEST', 'this room is already being recorded (elsewhere)');
    }
    if (this.#sessions.size + this.#finishing.size >= config.recording.maxConcurrent) {
      throw new TuttiError('UNAVAILABLE', 'the recording limit of this server is reached');
    }
    const r = config.recording;
    const session = new Session(
      room,
      {
        ffmpeg: r.ffmpegPath,
        ip: r.ip,
        workerPorts: this.#workerPorts,
        ffmpegPorts: this.#ports,
        tmpDir: join(config.data.dir, 'recording-tmp'),
        storage: this.#deps.storage,
        maxTracks: r.maxTracks,
        maxDurationMs: r.maxDurationSeconds * 1000,
        compositeTimeoutMs: r.compositeTimeoutSeconds * 1000,
        uploadTimeoutMs: 120_000,
        log: this.#log,
        changed: () => this.#announce(roomId),
      },
      () => void this.#stop(roomId).catch(() => {}),
    );
    this.#sessions.set(roomId, session);
    this.#lastError.delete(roomId);
    await session.start();
    this.#announce(roomId);
    this.#deps.events?.('recording_started', { room: { id: roomId } });
    return this.state(roomId);
  }

  async stop(
    roomId: string,
    memberId: string,
    ownerSecret: string | undefined,
  ): Promise<RecordingState> {
    requireRecordingControl(this.#deps.rooms.require(roomId), memberId, ownerSecret);
    const remote = this.#remote();
    // Recorded on another node: stopped there (which checks the member's role again).
    if (!this.#sessions.has(roomId) && remote?.elsewhere(roomId)?.state.active) {
      return remote.stop(roomId, memberId, ownerSecret);
    }
    if (!this.#sessions.has(roomId)) throw new TuttiError('INVALID_REQUEST', 'not recording');
    void this.#stop(roomId).catch(() => {});
    return this.state(roomId);
  }

  /** A stop relayed from another node's member, with the role that node announced. */
  async stopFor(
    roomId: string,
    role: Role,
    ownerSecret: string | undefined,
  ): Promise<RecordingState> {
    requireControlBy(this.#deps.rooms.require(roomId), role, ownerSecret);
    if (!this.#sessions.has(roomId)) throw new TuttiError('INVALID_REQUEST', 'not recording');
    void this.#stop(roomId).catch(() => {});
    return this.localState(roomId);
  }

  /** Another node's recording of the room changed: this node's members are told. */
  remoteChanged(roomId: string): void {
    this.#tell(roomId);
  }

  #remote(): RemoteRecording | undefined {
    return this.#deps.remote?.();
  }

  /** Ends the room's recording: state goes idle at once, the record follows when stored. */
  #stop(roomId: string): Promise<RecordingRecord> {
    const session = this.#sessions.get(roomId);
    if (!session) return Promise.reject(new Error('not recording'));
    this.#sessions.delete(roomId);
    const finishing = session
      .stop()
      .then(async (record) => {
        if (record.error) this.#lastError.set(roomId, record.error);
        await this.#deps.catalog.add(record).catch((err: unknown) => {
          this.#log.error({ err, roomId }, 'recording manifest not stored');
          record.status = 'failed';
          this.#lastError.set(roomId, 'the recording could not be stored');
        });
        this.#publish(record);
        this.#deps.events?.('recording_finished', {
          room: { id: roomId },
          recording: {
            id: record.id,
            status: record.status,
            durationMs: record.durationMs,
            tracks: record.tracks.length,
          },
        });
        return record;
      })
      .finally(() => {
        this.#finishing.delete(roomId);
        this.#announce(roomId);
      });
    this.#finishing.set(roomId, finishing);
    this.#announce(roomId);
    return finishing;
  }

  /** The last member left: the recording ends (and is kept). */
  roomEmpty(roomId: string): void {
    if (this.#sessions.has(roomId)) void this.#stop(roomId).catch(() => {});
  }

  /** Waits for a room's recording to be stored (tests, shutdown). */
  async settled(roomId: string): Promise<void> {
    await this.#finishing.get(roomId)?.catch(() => {});
  }

  async roomDeleted(roomId: string): Promise<void> {
    const session = this.#sessions.get(roomId);
    this.#sessions.delete(roomId);
    await session?.abort();
    await this.settled(roomId);
    this.#lastError.delete(roomId);
    await this.#deps.catalog.deleteRoom(roomId);
  }

  /** Server stopping: running recordings end without a composite; nothing half-made is kept. */
  async close(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.all(sessions.map((s) => s.abort()));
    await Promise.allSettled([...this.#finishing.values()]);
  }

  #token(roomId: string, peerId: string): string {
    return this.#deps.tokens.sign({ kind: 'a', peerId, roomId });
  }

  /** This node's recording changed: its members and the other nodes are told. */
  #announce(roomId: string): void {
    this.#tell(roomId);
    this.#remote()?.announce(roomId, this.localState(roomId));
  }

  #tell(roomId: string): void {
    const state = this.state(roomId);
    for (const member of this.#deps.rooms.members(roomId)) {
      void member.notify('recording.state', { state });
    }
  }

  #publish(record: RecordingRecord): void {
    for (const member of this.#deps.rooms.members(record.roomId)) {
      const item: RecordingItem = itemFor(record, this.#token(record.roomId, member.id));
      void member.notify('recording.item', { item });
    }
  }
}
