import type { Consumer, DirectTransport, Producer, Router } from 'mediasoup/types';
import type { FrameKind } from '../../client/src/lib/e2ee/frame.ts';
import { waitFor } from './browser.ts';

/**
 * What the SFU carries for an E2EE sender, read by a server-side consumer (a DirectTransport
 * on the sender's router): whole frames as the sender's transform sealed them (Opus payloads,
 * single-packet VP8 frames).
 */

/** The payload of an RTP packet (RFC 3550 §5.1: CSRCs, header extension, padding skipped). */
export function rtpPayload(packet: Buffer): { payload: Buffer; marker: boolean } {
  const csrcs = packet[0]! & 0x0f;
  let offset = 12 + csrcs * 4;
  if (packet[0]! & 0x10) offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  const padding = packet[0]! & 0x20 ? packet[packet.length - 1]! : 0;
  return {
    payload: packet.subarray(offset, packet.length - padding),
    marker: !!(packet[1]! & 0x80),
  };
}

/** A VP8 RTP payload without its payload descriptor (RFC 7741 §4.2), and whether it starts a frame. */
export function vp8Frame(payload: Buffer): { data: Buffer; start: boolean } {
  let i = 1;
  if (payload[0]! & 0x80) {
    const x = payload[1]!;
    i = 2;
    if (x & 0x80) i += payload[i]! & 0x80 ? 2 : 1; // PictureID
    if (x & 0x40) i += 1; // TL0PICIDX
    if (x & 0x30) i += 1; // TID / KEYIDX
  }
  return { data: payload.subarray(i), start: !!(payload[0]! & 0x10) && (payload[0]! & 0x07) === 0 };
}

export type SealedFrame = { kind: FrameKind; frame: Buffer };

/** Consumes the producers on `router` until `audio` Opus and `video` whole VP8 frames came. */
export async function collectSealed(
  router: Router,
  producers: Producer[],
  want: { audio: number; video: number },
  timeoutMs = 20_000,
): Promise<SealedFrame[]> {
  const transport: DirectTransport = await router.createDirectTransport();
  const frames: SealedFrame[] = [];
  const consumers: Consumer[] = [];
  try {
    for (const kind of ['audio', 'video'] as const) {
      const producer = producers.find((p) => p.kind === kind)!;
      const consumer = await transport.consume({
        producerId: producer.id,
        rtpCapabilities: router.rtpCapabilities,
      });
      consumers.push(consumer);
      consumer.on('rtp', (packet) => {
        const { payload, marker } = rtpPayload(packet);
        if (kind === 'audio') return void frames.push({ kind, frame: Buffer.from(payload) });
        const vp8 = vp8Frame(payload);
        // Single-packet frames only: the whole sealed frame in one payload.
        if (vp8.start && marker) frames.push({ kind, frame: Buffer.from(vp8.data) });
      });
    }
    const count = (k: FrameKind) => frames.filter((f) => f.kind === k).length;
    await waitFor(
      () => count('audio') >= want.audio && count('video') >= want.video,
      timeoutMs,
      'server-side RTP of both kinds',
    );
  } finally {
    transport.close();
  }
  return frames;
}

/** A Buffer's bytes as an ArrayBuffer of their own. */
export function bytesOf(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
}
