import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Consumer, PlainTransport, Producer, Router } from 'mediasoup/types';
import type { Logger } from '../kernel/log.ts';
import type { ProducerAppData } from '../rooms/mediaTypes.ts';
import type { PortPool } from './portPool.ts';
import { Child, lastLine } from './process.ts';
import { containerFor, trackSdp } from './sdp.ts';
import { waitUdpBound } from './udpBound.ts';

export interface TrackWriterDeps {
  ffmpeg: string;
  ip: string;
  /** The PlainTransports' port range (the upper half of the recording range). */
  workerPorts: [number, number];
  ffmpegPorts: PortPool;
  dir: string;
  log: Logger;
  /** The longest a writer runs (the recording's own limit, plus slack). */
  maxMs: number;
}

/** What the composite and the manifest need to know of one finished track. */
export interface TrackFile {
  name: string;
  path: string;
  kind: 'audio' | 'video';
  peerId: string;
  source: string;
  /** When its first packets were let through, from the recording's start. */
  offsetMs: number;
  /** How it ended: 'ok' (stopped, left, closed), or why it did not end well. */
  end: 'ok' | 'writer-died' | 'media-lost';
  size: number;
}

const BIND_TIMEOUT_MS = 5000;

/**
 * One producer written to a file without transcoding: a PlainTransport consumer (created
 * paused) sends RTP to an ffmpeg `-c copy`; once ffmpeg has bound its port the consumer is
 * resumed and a key frame requested (again shortly after, in case the first was lost).
 * It ends when stopped, when the producer or its router goes, or when ffmpeg dies.
 */
export class TrackWriter {
  readonly producerId: string;
  readonly kind: 'audio' | 'video';
  #transport: PlainTransport | undefined;
  #consumer: Consumer | undefined;
  #child: Child | undefined;
  #port: number | undefined;
  /** When its RTP was first let through (epoch ms). */
  #resumedAt = 0;
  #origin: () => number = () => 0;
  #end: TrackFile['end'] = 'ok';
  #ended: Promise<TrackFile | undefined> | undefined;
  #stopping = false;
  readonly #deps: TrackWriterDeps;
  readonly #producer: Producer<ProducerAppData>;
  readonly #name: string;
  readonly #log: Logger;

  constructor(producer: Producer<ProducerAppData>, index: number, deps: TrackWriterDeps) {
    this.producerId = producer.id;
    this.kind = producer.kind;
    this.#producer = producer;
    this.#deps = deps;
    this.#name = `track-${String(index).padStart(2, '0')}-${producer.appData.source}`;
    this.#log = deps.log.child({ producerId: producer.id, track: this.#name });
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * Starts writing; `origin` gives the recording's start (epoch ms, read when the file is
   * done: the start is set once the first writers run). Resolves once
   * RTP flows (or throws, leaving nothing running). `onEnded` is told when it ends by itself.
   */
  async start(
    router: Router,
    origin: () => number,
    onEnded: (why: TrackFile['end'], detail: string) => void,
  ): Promise<void> {
    const { ip, workerPorts, ffmpegPorts, dir } = this.#deps;
    const transport = await router.createPlainTransport({
      listenInfo: { protocol: 'udp', ip, portRange: { min: workerPorts[0], max: workerPorts[1] } },
      rtcpMux: false,
      comedia: false,
      appData: { recording: true },
    });
    this.#transport = transport;
    try {
      const consumer = await transport.consume({
        producerId: this.producerId,
        rtpCapabilities: router.rtpCapabilities,
        paused: true,
        appData: { recording: true },
      });
      this.#consumer = consumer;
      const codec = consumer.rtpParameters.codecs[0];
      if (!codec) throw new Error('no codec to record');
      const file = `${this.#name}.${containerFor(codec.mimeType)}`;
      this.#port = ffmpegPorts.take();
      await mkdir(dir, { recursive: true });
      const sdpPath = join(dir, `${this.#name}.sdp`);
      await writeFile(sdpPath, trackSdp(this.kind, consumer.rtpParameters, ip, this.#port));
      const child = new Child(this.#deps.ffmpeg, ffmpegArgs(sdpPath, join(dir, file)), {
        timeoutMs: this.#deps.maxMs,
      });
      this.#child = child;
      this.#ended = this.#watch(child, file, onEnded);
      await transport.connect({ ip, port: this.#port, rtcpPort: this.#port + 1 });
      if (!(await waitUdpBound(this.#port, BIND_TIMEOUT_MS))) {
        this.#log.warn({ port: this.#port }, 'ffmpeg did not bind in time; sending anyway');
      }
      if (!child.running) throw new Error('ffmpeg exited before it listened');
      this.#origin = origin;
      this.#resumedAt = Date.now();
      await consumer.resume();
      if (this.kind === 'video') {
        await consumer.requestKeyFrame();
        // A second request covers a key frame that raced ffmpeg's probe.
        setTimeout(() => void consumer.requestKeyFrame().catch(() => {}), 1000).unref();
      }
      consumer.on('producerclose', () => void this.stop());
      consumer.on('transportclose', () => this.#lost(onEnded));
      transport.on('routerclose', () => this.#lost(onEnded));
    } catch (err) {
      this.#child?.kill();
      transport.close();
      await this.#ended;
      throw err;
    }
  }

  /** Its router died with its worker: the file ends here. */
  #lost(onEnded: (why: TrackFile['end'], detail: string) => void): void {
    if (this.#stopping) return;
    this.#end = 'media-lost';
    onEnded('media-lost', 'the media worker went away');
    void this.stop();
  }

  async #watch(
    child: Child,
    file: string,
    onEnded: (why: TrackFile['end'], detail: string) => void,
  ): Promise<TrackFile | undefined> {
    const exit = await child.exited;
    const died = !this.#stopping;
    this.#stopping = true; // Closing the transport below is not a media loss.
    if (this.#port !== undefined) this.#deps.ffmpegPorts.release(this.#port);
    this.#transport?.close();
    if (died) {
      // Nobody asked it to stop: ffmpeg crashed, was killed or timed out.
      this.#end = 'writer-died';
      const detail = exit.timedOut
        ? 'time limit'
        : lastLine(exit.stderr) || `${exit.signal ?? exit.code}`;
      this.#log.warn({ code: exit.code, signal: exit.signal, detail }, 'track writer died');
      onEnded('writer-died', detail);
    }
    const path = join(this.#deps.dir, file);
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    if (size === 0) return undefined;
    return {
      name: file,
      path,
      kind: this.kind,
      peerId: this.#producer.appData.peerId,
      source: this.#producer.appData.source,
      offsetMs: Math.max(0, this.#resumedAt - this.#origin()),
      end: this.#end,
      size,
    };
  }

  /** Ends the file cleanly (ffmpeg writes its trailer); what was written. */
  async stop(): Promise<TrackFile | undefined> {
    this.#stopping = true;
    // ffmpeg first, while packets still flow: its read loop sees the signal at once.
    await this.#child?.stop();
    this.#consumer?.close();
    this.#transport?.close();
    return this.#ended;
  }
}

/** ffmpeg receiving one RTP stream described by `sdp`, copying it into `out` (the bench too). */
export function ffmpegArgs(sdp: string, out: string): string[] {
  return [
    ...['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'],
    ...['-protocol_whitelist', 'file,udp,rtp', '-reorder_queue_size', '64'],
    ...['-i', sdp, '-map', '0', '-c', 'copy'],
    // Small clusters, flushed as they go: a crash loses about a second, not the file.
    ...['-flush_packets', '1', '-cluster_time_limit', '1000'],
    out,
  ];
}
