import { TuttiError, type TransportOptions } from '@tutti/protocol';
import type { MediaKind, RouterRtpCodecCapability, RtpCapabilities } from 'mediasoup/types';
import * as ortc from 'mediasoup-client/ortc';
import { RemoteSdp } from 'mediasoup-client/handlers/sdp/RemoteSdp';
import type * as ClientTypes from 'mediasoup-client/types';
import { parse, write } from 'sdp-transform';
import { offeredRtpCapabilities, type WhipOffer } from './sdp.ts';

/** One offered recvonly m-line: what the viewer's consumer of that kind is made with. */
export interface ViewerSection {
  kind: MediaKind;
  mid: string;
}

const bad = (message: string) => new TuttiError('INVALID_REQUEST', `SDP offer: ${message}`);

const codecsError = (err: unknown) =>
  bad(`codecs: ${err instanceof Error ? err.message : String(err)}`);

/**
 * The codecs of a viewer's own router: the room's codecs the viewer offered, each with the
 * viewer's payload type. A browser demuxes an answer's RTP by the payload types of its own
 * offer, and mediasoup consumers send with their router's: so the viewer gets a router whose
 * payload types are its own, and the room's producers are piped to it.
 */
export function viewerRouterCodecs(
  offer: WhipOffer,
  roomCodecs: readonly RouterRtpCodecCapability[],
): RouterRtpCodecCapability[] {
  // Placeholder payload types: only codec matching (mime, clock, profile) is wanted here.
  const room: ClientTypes.RtpCapabilities = {
    codecs: roomCodecs.map((c, i) => ({
      ...c,
      preferredPayloadType: 96 + i,
      parameters: { ...c.parameters },
      rtcpFeedback: [],
    })) as ClientTypes.RtpCodecCapability[],
    headerExtensions: [],
  };
  try {
    const extended = ortc.getExtendedRtpCapabilities(
      offeredRtpCapabilities(offer.sdp),
      room,
      false,
    );
    return extended.codecs.map((c) => ({
      kind: c.kind,
      mimeType: c.mimeType,
      clockRate: c.clockRate,
      ...(c.channels !== undefined ? { channels: c.channels } : {}),
      preferredPayloadType: c.localPayloadType,
      parameters: c.remoteParameters,
    }));
  } catch (err) {
    throw codecsError(err);
  }
}

/**
 * A WHEP viewer's offer against its router (viewerRouterCodecs), with mediasoup-client's own
 * helpers (the ones a browser's recv transport uses): the capabilities its consumers are made
 * with and the answer. Header extension ids cannot be re-assigned in an answer and mediasoup's
 * are fixed, so only the extensions whose id equals the offered one are kept; RTX is left out
 * (NACKs are answered on the media SSRC). The SSRC of the consumer behind each m-line when the
 * answer is written is announced (libdatachannel routes RTP by announced SSRCs only); the
 * consumer is replaced when the speaker changes, and a browser takes the new SSRC unsignalled
 * (its m-line found by the mid extension or by payload type, unique per m-line in its offer).
 */
export function negotiateViewer(
  offer: WhipOffer,
  routerCaps: RtpCapabilities,
): {
  sections: ViewerSection[];
  rtpCapabilities: RtpCapabilities;
  /** The answer; `ssrcs` (by mid) names the consumers behind the m-lines right now. */
  answer: (transport: TransportOptions, ssrcs?: ReadonlyMap<string, number>) => string;
} {
  let caps: ClientTypes.RtpCapabilities;
  let sameIds: Set<string>;
  try {
    const local = offeredRtpCapabilities(offer.sdp);
    const extended = ortc.getExtendedRtpCapabilities(
      local,
      routerCaps as ClientTypes.RtpCapabilities,
      false,
    );
    caps = ortc.getRecvRtpCapabilities(extended);
    sameIds = new Set(
      extended.headerExtensions
        .filter((e) => e.sendId === e.recvId)
        .map((e) => `${e.kind} ${e.uri}`),
    );
  } catch (err) {
    throw codecsError(err);
  }
  const rtpCapabilities: ClientTypes.RtpCapabilities = {
    codecs: (caps.codecs ?? []).filter((c) => !/\/rtx$/i.test(c.mimeType)),
    headerExtensions: (caps.headerExtensions ?? []).filter((e) =>
      sameIds.has(`${e.kind} ${e.uri}`),
    ),
  };
  const sections = offer.sdp.media.map((m) => ({ kind: m.type as MediaKind, mid: String(m.mid) }));
  for (const s of sections) {
    if (!rtpCapabilities.codecs!.some((c) => c.kind === s.kind)) {
      throw bad(`no ${s.kind} codec in common with the room`);
    }
  }
  const answer = (transport: TransportOptions, ssrcs?: ReadonlyMap<string, number>): string => {
    const remote = new RemoteSdp({
      iceParameters: transport.iceParameters as ClientTypes.IceParameters,
      iceCandidates: transport.iceCandidates as ClientTypes.IceCandidate[],
      dtlsParameters: transport.dtlsParameters as ClientTypes.DtlsParameters,
    });
    for (const s of sections) {
      remote.receive({
        mid: s.mid,
        kind: s.kind,
        offerRtpParameters: {
          mid: s.mid,
          codecs: rtpCapabilities.codecs!.filter((c) => c.kind === s.kind).map(asParameters),
          headerExtensions: rtpCapabilities
            .headerExtensions!.filter((e) => e.kind === s.kind)
            .map((e) => ({ uri: e.uri, id: e.preferredId })),
          encodings: [ssrcs?.has(s.mid) ? { ssrc: ssrcs.get(s.mid)! } : {}],
          rtcp: { cname: 'tutti-whep', reducedSize: true },
        },
        streamId: 'tutti-whep',
        trackId: `tutti-whep-${s.kind}`,
      });
    }
    // RemoteSdp writes offers (setup:actpass); in an answer mediasoup is the DTLS server.
    const sdp = parse(remote.getSdp());
    for (const m of sdp.media) m.setup = 'passive';
    return write(sdp);
  };
  return { sections, rtpCapabilities: rtpCapabilities as RtpCapabilities, answer };
}

const asParameters = (c: ClientTypes.RtpCodecCapability): ClientTypes.RtpCodecParameters => ({
  mimeType: c.mimeType,
  payloadType: c.preferredPayloadType!,
  clockRate: c.clockRate,
  ...(c.channels !== undefined ? { channels: c.channels } : {}),
  parameters: c.parameters ?? {},
  rtcpFeedback: c.rtcpFeedback ?? [],
});
