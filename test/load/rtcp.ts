/**
 * RTCP packets a Chrome receiver sends, built by hand for the load bots (libdatachannel
 * encrypts them as SRTCP when they go out on a track): transport-wide congestion control
 * feedback (RTPFB FMT 15, draft-holmer-rmcat-transport-wide-cc-extensions-01), receiver
 * reports (RFC 3550 6.4.2) and generic NACKs (RFC 4585 6.2.1); plus the two reads a receiver
 * needs: an RTP header extension's value and the sender reports' NTP time (for LSR/DLSR).
 */

export const TCC_URI = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

/** Offset of the RTP payload (after CSRCs and the header extension block), or -1 if malformed. */
export function rtpPayloadOffset(p: Buffer): number {
  if (p.length < 12) return -1;
  let off = 12 + (p[0]! & 0x0f) * 4;
  if (p[0]! & 0x10) {
    if (off + 4 > p.length) return -1;
    off += 4 + p.readUInt16BE(off + 2) * 4;
  }
  return off <= p.length ? off : -1;
}

/**
 * Offset of header extension `id`'s value in an RTP packet (RFC 8285 one-byte 0xBEDE and
 * two-byte 0x100X forms), or -1 when absent.
 */
export function rtpExtensionOffset(p: Buffer, id: number): number {
  if (p.length < 16 || !(p[0]! & 0x10)) return -1;
  let off = 12 + (p[0]! & 0x0f) * 4;
  if (off + 4 > p.length) return -1;
  const profile = p.readUInt16BE(off);
  const end = off + 4 + p.readUInt16BE(off + 2) * 4;
  if (end > p.length) return -1;
  off += 4;
  if (profile === 0xbede) {
    while (off < end) {
      const b = p[off]!;
      if (b === 0) {
        off++; // padding
        continue;
      }
      const extId = b >> 4;
      if (extId === 15) return -1;
      if (extId === id) return off + 1;
      off += 2 + (b & 0x0f);
    }
  } else if ((profile & 0xfff0) === 0x1000) {
    while (off + 1 < end) {
      const extId = p[off]!;
      if (extId === 0) {
        off++;
        continue;
      }
      if (extId === id) return off + 2;
      off += 2 + p[off + 1]!;
    }
  }
  return -1;
}

/** The transport-wide sequence number (16 bits) of an RTP packet, or -1 without one. */
export function transportWideSeq(p: Buffer, id: number): number {
  const off = rtpExtensionOffset(p, id);
  return off >= 0 && off + 2 <= p.length ? p.readUInt16BE(off) : -1;
}

/** Calls `fn(ssrc, ntpMiddle32)` for every sender report in an RTCP compound packet. */
export function forEachSenderReport(p: Buffer, fn: (ssrc: number, ntpMid: number) => void): void {
  let off = 0;
  while (off + 4 <= p.length) {
    const len = (p.readUInt16BE(off + 2) + 1) * 4;
    if (p[off + 1] === 200 && off + 20 <= p.length)
      fn(
        p.readUInt32BE(off + 4),
        ((p.readUInt32BE(off + 8) << 16) | (p[off + 12]! << 8) | p[off + 13]!) >>> 0,
      );
    off += len;
  }
}

/** Status symbols of a transport-cc feedback. */
const NOT_RECEIVED = 0;
const SMALL = 1;
const LARGE = 2;
/** Receive deltas are in 250 µs ticks; the reference time in 64 ms = 256 ticks. */
export const TICKS_PER_MS = 4;
const TICKS_PER_REF = 256;

function header(fmt: number, pt: number, words: number, buf: Buffer): void {
  buf[0] = 0x80 | fmt;
  buf[1] = pt;
  buf.writeUInt16BE(words - 1, 2);
}

/**
 * A transport-cc feedback for the sequence numbers baseSeq, baseSeq + 1, … (16-bit,
 * wrapping): `arrivals[i]` is the arrival time of baseSeq + i in 250 µs ticks (any origin, an
 * integer ≥ 0), or undefined if it did not arrive. The first arrival must be defined.
 * Reference time = floor(first arrival / 64 ms); deltas are to the previous received
 * packet (the first one to the reference time); a delta outside int16 is clamped.
 */
export function buildTransportCc(o: {
  senderSsrc: number;
  mediaSsrc: number;
  baseSeq: number;
  fbCount: number;
  arrivals: readonly (number | undefined)[];
}): Buffer {
  const n = o.arrivals.length;
  const first = o.arrivals[0];
  if (first === undefined)
    throw new Error('transport-cc: the base sequence number must have arrived');
  if (n > 0xffff) throw new Error('transport-cc: too many packets');
  const refTime = Math.floor(first / TICKS_PER_REF);
  const symbols = new Uint8Array(n);
  const deltas: number[] = [];
  let prev = refTime * TICKS_PER_REF;
  let deltaBytes = 0;
  for (let i = 0; i < n; i++) {
    const at = o.arrivals[i];
    if (at === undefined) continue;
    const d = Math.max(-0x8000, Math.min(0x7fff, at - prev));
    prev += d;
    symbols[i] = d >= 0 && d <= 0xff ? SMALL : LARGE;
    deltaBytes += symbols[i] === SMALL ? 1 : 2;
    deltas.push(d);
  }
  const chunks: number[] = [];
  for (let i = 0; i < n;) {
    const s = symbols[i]!;
    let run = 1;
    while (i + run < n && symbols[i + run] === s && run < 0x1fff) run++;
    if (run >= 14 || i + run === n) {
      chunks.push((s << 13) | run); // run-length chunk
      i += run;
      continue;
    }
    let oneBit = true;
    for (let j = i; j < Math.min(n, i + 14); j++) if (symbols[j]! > SMALL) oneBit = false;
    let chunk: number;
    if (oneBit) {
      chunk = 0x8000; // status vector, 14 one-bit symbols (0 padding past the end)
      for (let j = 0; j < 14 && i + j < n; j++) chunk |= symbols[i + j]! << (13 - j);
      i += 14;
    } else {
      chunk = 0xc000; // status vector, 7 two-bit symbols
      for (let j = 0; j < 7 && i + j < n; j++) chunk |= symbols[i + j]! << (12 - 2 * j);
      i += 7;
    }
    chunks.push(chunk);
  }
  const len = 20 + chunks.length * 2 + deltaBytes;
  const words = Math.ceil(len / 4);
  const buf = Buffer.alloc(words * 4); // zero padding at the end
  header(15, 205, words, buf);
  buf.writeUInt32BE(o.senderSsrc >>> 0, 4);
  buf.writeUInt32BE(o.mediaSsrc >>> 0, 8);
  buf.writeUInt16BE(o.baseSeq & 0xffff, 12);
  buf.writeUInt16BE(n, 14);
  buf.writeUIntBE(refTime & 0xffffff, 16, 3);
  buf[19] = o.fbCount & 0xff;
  let off = 20;
  for (const c of chunks) off = buf.writeUInt16BE(c, off);
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (symbols[i] === NOT_RECEIVED) continue;
    const d = deltas[k++]!;
    off = symbols[i] === SMALL ? buf.writeUInt8(d, off) : buf.writeInt16BE(d, off);
  }
  return buf;
}

export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, 0..255 (lost / expected × 256). */
  fractionLost: number;
  /** Cumulative packets lost (24-bit signed). */
  cumulativeLost: number;
  /** Extended highest sequence number received (cycles << 16 | seq). */
  extHighestSeq: number;
  jitter: number;
  /** Middle 32 bits of the last sender report's NTP time, 0 if none. */
  lsr: number;
  /** Delay since that sender report, in 1/65536 s. */
  dlsr: number;
}

/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;

/**
 * A sender report (PT 200, no report blocks), as a browser sends one per outgoing stream:
 * `wallMs` (Unix ms) as NTP time, the RTP timestamp of that same instant, and the packets
 * and payload-plus-header octets sent so far (RFC 3550 6.4.1).
 */
export function buildSenderReport(o: {
  ssrc: number;
  wallMs: number;
  rtpTimestamp: number;
  packets: number;
  octets: number;
}): Buffer {
  const buf = Buffer.alloc(28);
  header(0, 200, 7, buf);
  buf.writeUInt32BE(o.ssrc >>> 0, 4);
  const seconds = Math.floor(o.wallMs / 1000);
  const fraction = Math.floor(((o.wallMs - seconds * 1000) / 1000) * 0x1_0000_0000);
  buf.writeUInt32BE((seconds + NTP_UNIX_OFFSET_S) >>> 0, 8);
  buf.writeUInt32BE(Math.min(0xffffffff, fraction) >>> 0, 12);
  buf.writeUInt32BE(o.rtpTimestamp >>> 0, 16);
  buf.writeUInt32BE(o.packets >>> 0, 20);
  buf.writeUInt32BE(o.octets >>> 0, 24);
  return buf;
}

/** A receiver report (PT 201) with up to 31 report blocks. */
export function buildReceiverReport(senderSsrc: number, blocks: readonly ReportBlock[]): Buffer {
  const count = Math.min(31, blocks.length);
  const buf = Buffer.alloc(8 + 24 * count);
  header(count, 201, buf.length / 4, buf);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  for (let i = 0; i < count; i++) {
    const b = blocks[i]!;
    const off = 8 + 24 * i;
    buf.writeUInt32BE(b.ssrc >>> 0, off);
    buf[off + 4] = Math.max(0, Math.min(255, b.fractionLost));
    buf.writeIntBE(Math.max(-0x800000, Math.min(0x7fffff, b.cumulativeLost)), off + 5, 3);
    buf.writeUInt32BE(b.extHighestSeq >>> 0, off + 8);
    buf.writeUInt32BE(Math.max(0, Math.min(0xffffffff, Math.round(b.jitter))), off + 12);
    buf.writeUInt32BE(b.lsr >>> 0, off + 16);
    buf.writeUInt32BE(Math.max(0, Math.min(0xffffffff, Math.round(b.dlsr))), off + 20);
  }
  return buf;
}

/**
 * A generic NACK (RTPFB FMT 1) for the given 16-bit sequence numbers, in the order they
 * were lost (oldest first): each FCI entry is a PID and a bitmask of the 16 following ones.
 */
export function buildNack(senderSsrc: number, mediaSsrc: number, seqs: readonly number[]): Buffer {
  const fci: number[] = [];
  let pid = -1;
  let blp = 0;
  for (const raw of seqs) {
    const seq = raw & 0xffff;
    const diff = pid < 0 ? -1 : (seq - pid - 1) & 0xffff;
    if (pid >= 0 && diff < 16) {
      blp |= 1 << diff;
      continue;
    }
    if (pid >= 0) fci.push(pid, blp);
    pid = seq;
    blp = 0;
  }
  if (pid >= 0) fci.push(pid, blp);
  const buf = Buffer.alloc(12 + fci.length * 2);
  header(1, 205, buf.length / 4, buf);
  buf.writeUInt32BE(senderSsrc >>> 0, 4);
  buf.writeUInt32BE(mediaSsrc >>> 0, 8);
  for (let i = 0; i < fci.length; i++) buf.writeUInt16BE(fci[i]!, 12 + 2 * i);
  return buf;
}
