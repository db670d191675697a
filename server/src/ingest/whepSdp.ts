import { TuttiError, type TransportOptions } from '@tutti/protocol';
import type { MediaKind, RtpCapabilities } from 'mediasoup/types';
import * as ortc from 'mediasoup-client/ortc';
import { RemoteSdp } from 'mediasoup-client/handlers/sdp/RemoteSdp';
import { extractRtpCapabilities } from 'mediasoup-client/handlers/sdp/commonUtils';
import type * as ClientTypes from 'mediasoup-client/types';
import { parse, write } from 'sdp-transform';
import type { WhipOffer } from './sdp.ts';

/** One offered recvonly m-line: what the viewer's consumer of that kind is made with. */
export interface ViewerSection {
  kind: MediaKind;
  mid: string;
}

const bad = (message: string) => new TuttiError('INVALID_REQUEST', `SDP offer: ${message}`);

/**
 * A WHEP viewer's offer against the room's router, with mediasoup-client's own helpers (the
 * ones a browser's recv transport uses): the capabilities its consumers are made with and the
 * answer. The consumers send with the router's payload types (Chrome takes an answer whose
 * PTs differ from its offer), but header extension ids cannot be re-assigned in an answer, so
 * only the extensions whose router id equals the offered id are kept; RTX is left out (NACKs
 * are answered on the media SSRC) and no SSRC is announced, because the consumer behind an
 * m-line is replaced when the speaker changes: the browser takes the new SSRC unsignalled.
 */
export function negotiateViewer(
  offer: WhipOffer,
  routerCaps: RtpCapabilities,
): {
  sections: ViewerSection[];
  rtpCapabilities: RtpCapabilities;
  answer: (transport: TransportOptions) => string;
} {
  let caps: ClientTypes.RtpCapabilities;
  let sameIds: Set<string>;
  try {
    const local = extractRtpCapabilities({ sdpObject: offer.sdp });
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
    throw bad(`codecs: ${err instanceof Error ? err.message : String(err)}`);
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
  const answer = (transport: TransportOptions): string => {
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
          encodings: [{}],
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
