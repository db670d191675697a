import { readFileSync } from 'node:fs';

/**
 * Pre-encoded media for the load bots: the fixture files (made once by
 * fixtures/make-fixture.sh with ffmpeg) are split into RTP payloads at start-up. While a
 * test runs, sending a packet is only "write a 12-byte header in front of a payload".
 */

export const VIDEO_CLOCK = 90_000;
export const AUDIO_CLOCK = 48_000;
/** Payload size limit per RTP packet (keeps SRTP + UDP well under a 1200-byte MTU). */
const MAX_VP8_PAYLOAD = 1100;

export interface FixturePacket {
  /** Send time relative to the start of one loop of the fixture. */
  atMs: number;
  /** RTP timestamp relative to the start of one loop. */
  ts: number;
  marker: boolean;
  /** First packet of a VP8 key frame: a place a stream may jump to on PLI/FIR. */
  keyframeStart: boolean;
  payload: Buffer;
}

export interface FixtureTrack {
  packets: FixturePacket[];
  /** Length of one loop, in ms and in RTP clock ticks. */
  loopMs: number;
  loopTicks: number;
  bytesPerLoop: number;
}

const fixturesDir = new URL('./fixtures/', import.meta.url);

/**
 * VP8 frames from an IVF file, packetized per RFC 7741 (1-byte descriptor, no PictureID).
 * `scale` < 1 cuts every frame to that fraction of its bytes: a stand-in for a lower
 * simulcast layer (same frame rate and key frames, less bitrate; nobody decodes it).
 */
export function loadVp8Fixture(
  path = new URL('video-vp8.ivf', fixturesDir),
  scale = 1,
): FixtureTrack {
  const buf = readFileSync(path);
  if (buf.toString('latin1', 0, 4) !== 'DKIF') throw new Error(`${String(path)}: not an IVF file`);
  const headerLen = buf.readUInt16LE(6);
  const rateNum = buf.readUInt32LE(16);
  const rateDen = buf.readUInt32LE(20);
  const fps = rateNum / rateDen;
  const packets: FixturePacket[] = [];
  let off = headerLen;
  let frame = 0;
  let bytes = 0;
  while (off + 12 <= buf.length) {
    const size = buf.readUInt32LE(off);
    const data = buf.subarray(off + 12, off + 12 + Math.max(16, Math.ceil(size * scale)));
    off += 12 + size;
    const atMs = (frame * 1000) / fps;
    const ts = Math.round((frame * VIDEO_CLOCK) / fps);
    for (let pos = 0; pos < data.length; pos += MAX_VP8_PAYLOAD) {
      const chunk = data.subarray(pos, pos + MAX_VP8_PAYLOAD);
      const payload = Buffer.allocUnsafe(1 + chunk.length);
      payload[0] = pos === 0 ? 0x10 : 0x00; // S bit on the first packet, partition 0
      chunk.copy(payload, 1);
      packets.push({
        atMs,
        ts,
        marker: pos + MAX_VP8_PAYLOAD >= data.length,
        // VP8 payload header: bit 0 of the first byte is 0 on key frames (RFC 6386 9.1).
        keyframeStart: pos === 0 && (data[0]! & 0x01) === 0,
        payload,
      });
      bytes += payload.length;
    }
    frame++;
  }
  if (frame === 0) throw new Error(`${String(path)}: no frames`);
  return {
    packets,
    loopMs: (frame * 1000) / fps,
    loopTicks: Math.round((frame * VIDEO_CLOCK) / fps),
    bytesPerLoop: bytes,
  };
}

/** Opus packets from an Ogg file: one RTP packet per Opus packet (20 ms each). */
export function loadOpusFixture(path = new URL('audio-opus.ogg', fixturesDir)): FixtureTrack {
  const buf = readFileSync(path);
  const oggPackets: Buffer[] = [];
  let pending: Buffer[] = [];
  let off = 0;
  while (off + 27 <= buf.length) {
    if (buf.toString('latin1', off, off + 4) !== 'OggS') throw new Error('bad Ogg page');
    const nSegs = buf[off + 26]!;
    const table = buf.subarray(off + 27, off + 27 + nSegs);
    let pos = off + 27 + nSegs;
    for (const len of table) {
      pending.push(buf.subarray(pos, pos + len));
      pos += len;
      if (len < 255) {
        oggPackets.push(Buffer.concat(pending));
        pending = [];
      }
    }
    off = pos;
  }
  // Skip OpusHead and OpusTags.
  const audio = oggPackets.filter(
    (p) => p.toString('latin1', 0, 8) !== 'OpusHead' && p.toString('latin1', 0, 8) !== 'OpusTags',
  );
  if (audio.length === 0) throw new Error(`${String(path)}: no Opus packets`);
  const frameMs = 20;
  const packets = audio.map((payload, i) => ({
    atMs: i * frameMs,
    ts: i * 960,
    marker: false,
    keyframeStart: false,
    payload,
  }));
  return {
    packets,
    loopMs: audio.length * frameMs,
    loopTicks: audio.length * 960,
    bytesPerLoop: audio.reduce((n, p) => n + p.length, 0),
  };
}

/** libwebrtc's EncoderRtcpFeedback minimum interval between forced key frames. */
export const MIN_KEYFRAME_INTERVAL_MS = 300;

/**
 * One outgoing RTP stream that loops a fixture track with continuous seq/timestamps. On a
 * key frame request it jumps to the next key frame of the fixture at the next frame
 * boundary, as an encoder would send one, keeping timing and timestamps continuous.
 */
export class RtpStream {
  readonly track: FixtureTrack;
  readonly ssrc: number;
  readonly payloadType: number;
  private seq: number;
  private readonly tsBase: number;
  /** Added to a fixture packet's atMs / ts to get stream time / timestamp. */
  private offsetMs = 0;
  private offsetTicks = 0;
  private index = 0;
  /** performance.now() from which the next frame must be a key frame; undefined: none asked. */
  private keyframeDueAt: number | undefined;
  private lastForcedKeyframeAt = -Infinity;
  private readonly keyframes: number[];
  sentPackets = 0;
  sentBytes = 0;
  keyframeJumps = 0;

  constructor(track: FixtureTrack, ssrc: number, payloadType: number) {
    this.track = track;
    this.ssrc = ssrc;
    this.payloadType = payloadType;
    this.seq = Math.floor(Math.random() * 0x10000);
    this.tsBase = Math.floor(Math.random() * 0x7fffffff);
    this.keyframes = track.packets.flatMap((p, i) => (p.keyframeStart ? [i] : []));
  }

  /**
   * PLI/FIR from the SFU: the next frame sent will be a key frame. Like libwebrtc's encoder
   * feedback, at most one forced key frame per MIN_KEYFRAME_INTERVAL_MS (without that, loss
   * → PLI → key frame bursts → more loss feeds on itself under load); a request inside that
   * interval is served when it ends, and requests waiting together share one key frame.
   */
  requestKeyframe(now = performance.now()): void {
    if (this.keyframes.length === 0 || this.keyframeDueAt !== undefined) return;
    this.keyframeDueAt = Math.max(now, this.lastForcedKeyframeAt + MIN_KEYFRAME_INTERVAL_MS);
  }

  /**
   * The RTP timestamp of the instant elapsedMs since the stream started (what a sender
   * report pairs with its NTP time): the packets' timeline, continuous across loops and
   * key frame jumps, at the track's clock rate.
   */
  rtpTimestampAt(elapsedMs: number): number {
    const ticksPerMs = this.track.loopTicks / this.track.loopMs;
    return (
      (this.tsBase + this.offsetTicks + Math.round((elapsedMs - this.offsetMs) * ticksPerMs)) >>> 0
    );
  }

  /** Calls send() for every packet due at elapsedMs since the stream started. */
  pump(elapsedMs: number, send: (packet: Buffer) => void): void {
    const { packets, loopMs, loopTicks } = this.track;
    for (;;) {
      let p = packets[this.index]!;
      if (this.offsetMs + p.atMs > elapsedMs) return;
      const frameStart = this.index === 0 || packets[this.index - 1]!.marker;
      if (p.keyframeStart) {
        this.keyframeDueAt = undefined; // a natural key frame answers any request
      } else if (
        this.keyframeDueAt !== undefined &&
        frameStart &&
        performance.now() >= this.keyframeDueAt
      ) {
        this.keyframeDueAt = undefined;
        this.lastForcedKeyframeAt = performance.now();
        // Jump: the key frame takes this frame's slot in time and timestamp.
        const k = this.keyframes.find((i) => i > this.index) ?? this.keyframes[0]!;
        const kp = packets[k]!;
        this.offsetMs += p.atMs - kp.atMs;
        this.offsetTicks += p.ts - kp.ts;
        this.index = k;
        p = kp;
        this.keyframeJumps++;
      }
      const out = Buffer.allocUnsafe(12 + p.payload.length);
      out[0] = 0x80;
      out[1] = (p.marker ? 0x80 : 0) | this.payloadType;
      out.writeUInt16BE(this.seq, 2);
      out.writeUInt32BE((this.tsBase + this.offsetTicks + p.ts) >>> 0, 4);
      out.writeUInt32BE(this.ssrc, 8);
      p.payload.copy(out, 12);
      this.seq = (this.seq + 1) & 0xffff;
      send(out);
      this.sentPackets++;
      this.sentBytes += out.length;
      this.index++;
      if (this.index === packets.length) {
        this.index = 0;
        this.offsetMs += loopMs;
        this.offsetTicks += loopTicks;
      }
    }
  }
}

/** True if an RTCP compound packet holds a PLI or FIR (payload-specific feedback). */
export function hasKeyframeRequest(packet: Buffer): boolean {
  let off = 0;
  while (off + 4 <= packet.length) {
    const fmt = packet[off]! & 0x1f;
    const pt = packet[off + 1]!;
    if (pt === 206 && (fmt === 1 || fmt === 4)) return true;
    off += (packet.readUInt16BE(off + 2) + 1) * 4;
  }
  return false;
}

/** The media SSRC a PLI (or the first FIR entry) asks a key frame of; undefined if none. */
export function keyframeRequestSsrc(packet: Buffer): number | undefined {
  let off = 0;
  while (off + 4 <= packet.length) {
    const fmt = packet[off]! & 0x1f;
    const pt = packet[off + 1]!;
    if (pt === 206 && fmt === 1 && off + 12 <= packet.length) return packet.readUInt32BE(off + 8);
    if (pt === 206 && fmt === 4 && off + 16 <= packet.length) return packet.readUInt32BE(off + 12);
    off += (packet.readUInt16BE(off + 2) + 1) * 4;
  }
  return undefined;
}

/** True for RTCP (RFC 5761 demux: payload type byte 192..223). */
export function isRtcp(packet: Buffer): boolean {
  if (packet.length < 2) return false;
  const pt = packet[1]!;
  return pt >= 192 && pt <= 223;
}

/** Receive-side statistics of one RTP stream, by SSRC: counts, bytes, loss from seq gaps. */
export class RtpReceiveStats {
  packets = 0;
  bytes = 0;
  firstAt = 0;
  private baseSeq = -1;
  /** Extended highest sequence number (cycles << 16 | seq). */
  private maxExt = -1;

  onPacket(packet: Buffer, now: number): void {
    if (packet.length < 12) return;
    const seq = packet.readUInt16BE(2);
    if (this.baseSeq < 0) {
      this.baseSeq = seq;
      this.maxExt = seq;
      this.firstAt = now;
    } else {
      // Pick the extension of seq closest to the current maximum.
      const cycles = this.maxExt & ~0xffff;
      let ext = cycles | seq;
      if (ext - this.maxExt > 0x8000) ext -= 0x10000;
      else if (this.maxExt - ext > 0x8000) ext += 0x10000;
      if (ext > this.maxExt) this.maxExt = ext;
    }
    this.packets++;
    this.bytes += packet.length;
  }

  /** Packets that should have arrived so far (highest seq - first seq + 1). */
  get expected(): number {
    return this.baseSeq < 0 ? 0 : this.maxExt - this.baseSeq + 1;
  }
}
