import { TuttiError, type TransportOptions } from '@tutti/protocol';
import type { MediaKind, RtpCapabilities, RtpParameters } from 'mediasoup/types';
import * as ortc from 'mediasoup-client/ortc';
import { RemoteSdp } from 'mediasoup-client/handlers/sdp/RemoteSdp';
import {
  extractDtlsParameters,
  extractRtpCapabilities,
  getCname,
} from 'mediasoup-client/handlers/sdp/commonUtils';
import { getRtpEncodings } from 'mediasoup-client/handlers/sdp/unifiedPlanUtils';
import type * as ClientTypes from 'mediasoup-client/types';
import { parse, type MediaDescription, type SessionDescription } from 'sdp-transform';

/**
 * The offer's capabilities as mediasoup-client reads them, except that header extensions are
 * kept per kind: mediasoup-client keys them by id alone, so one id used by audio and video
 * (a browser's and libdatachannel's mid extension) would survive for the last kind only.
 */
export function offeredRtpCapabilities(sdp: SessionDescription): ClientTypes.RtpCapabilities {
  const caps = extractRtpCapabilities({ sdpObject: sdp });
  const perKind = new Map<string, ClientTypes.RtpHeaderExtension>();
  for (const m of sdp.media) {
    if (m.type !== 'audio' && m.type !== 'video') continue;
    for (const ext of m.ext ?? []) {
      if (ext['encrypt-uri']) continue;
      perKind.set(`${m.type} ${ext.value}`, {
        kind: m.type,
        uri: ext.uri as ClientTypes.RtpHeaderExtensionUri,
        preferredId: ext.value,
      });
    }
  }
  return { ...caps, headerExtensions: [...perKind.values()] };
}

/** What one offered m-line becomes: a producer's parameters (browser side). */
export interface OfferedTrack {
  kind: MediaKind;
  mid: string;
  rtpParameters: RtpParameters;
}

/**
 * A parsed WHIP offer: parsing and codec negotiation with mediasoup-client's own SDP helpers
 * (the ones its Chrome handler uses for a send transport), so the answer matches what the
 * mediasoup-client library would have produced in the browser.
 */
export interface WhipOffer {
  sdp: SessionDescription;
  dtlsParameters: ClientTypes.DtlsParameters;
}

const bad = (message: string) => new TuttiError('INVALID_REQUEST', `SDP offer: ${message}`);

/** WHIP offers send (sendonly), WHEP offers receive (recvonly); sendrecv passes for either. */
const OFFER_DIRECTION = { publish: 'sendonly', view: 'recvonly' } as const;

/** Parses and sanity-checks an offer; INVALID_REQUEST with the reason otherwise. */
export function parseOffer(
  text: string,
  role: keyof typeof OFFER_DIRECTION = 'publish',
): WhipOffer {
  if (!/^v=0\r?\n/.test(text)) throw bad('must start with "v=0"');
  let sdp: SessionDescription;
  try {
    sdp = parse(text);
  } catch {
    throw bad('unreadable');
  }
  const media = sdp.media ?? [];
  if (media.length === 0) throw bad('no media sections');
  const kinds = new Set<string>();
  for (const m of media) {
    if (m.type !== 'audio' && m.type !== 'video') throw bad(`unsupported media "${m.type}"`);
    // One producer per source (mic, camera): a second one would replace the first.
    if (kinds.has(m.type)) throw bad(`more than one ${m.type} section`);
    kinds.add(m.type);
    if (m.mid === undefined) throw bad(`${m.type} section without a=mid`);
    if (m.direction !== OFFER_DIRECTION[role] && m.direction !== 'sendrecv') {
      throw bad(
        `${m.type} section must be ${OFFER_DIRECTION[role]} (${role === 'publish' ? 'WHIP ingest' : 'WHEP playback'})`,
      );
    }
    if (!(m.iceUfrag ?? sdp.iceUfrag) || !(m.icePwd ?? sdp.icePwd)) throw bad('no ICE credentials');
  }
  let dtlsParameters: ClientTypes.DtlsParameters;
  try {
    dtlsParameters = extractDtlsParameters({ sdpObject: sdp });
  } catch {
    throw bad('no DTLS fingerprint');
  }
  return { sdp, dtlsParameters };
}

/**
 * The tracks to produce: per m-line, the router's first codec the sender also offers (plus
 * its RTX), the sender's SSRCs and CNAME. Also returns the answer builder.
 */
export function negotiate(
  offer: WhipOffer,
  routerCaps: RtpCapabilities,
): {
  tracks: OfferedTrack[];
  answer: (transport: TransportOptions) => string;
} {
  let extended: ReturnType<typeof ortc.getExtendedRtpCapabilities>;
  try {
    const local = offeredRtpCapabilities(offer.sdp);
    extended = ortc.getExtendedRtpCapabilities(
      local,
      routerCaps as ClientTypes.RtpCapabilities,
      false,
    );
  } catch (err) {
    throw bad(`codecs: ${err instanceof Error ? err.message : String(err)}`);
  }
  const sections: {
    media: MediaDescription;
    offerParams: ClientTypes.RtpParameters;
    answerParams: ClientTypes.RtpParameters;
  }[] = [];
  for (const media of offer.sdp.media) {
    const kind = media.type as MediaKind;
    const offerParams = ortc.getSendingRtpParameters(kind, extended);
    offerParams.codecs = ortc.reduceCodecs(offerParams.codecs);
    const answerParams = ortc.getSendingRemoteRtpParameters(kind, extended);
    answerParams.codecs = ortc.reduceCodecs(answerParams.codecs);
    if (offerParams.codecs.length === 0) throw bad(`no ${kind} codec in common with the room`);
    offerParams.mid = String(media.mid);
    try {
      offerParams.rtcp = { ...offerParams.rtcp, cname: getCname({ offerMediaObject: media }) };
      offerParams.encodings = getRtpEncodings({
        offerMediaObject: media,
        codecs: offerParams.codecs,
      });
    } catch (err) {
      throw bad(`${kind}: ${err instanceof Error ? err.message : String(err)}`);
    }
    sections.push({ media, offerParams, answerParams });
  }
  const tracks = sections.map((s) => ({
    kind: s.media.type as MediaKind,
    mid: String(s.media.mid),
    rtpParameters: s.offerParams as RtpParameters,
  }));
  const answer = (transport: TransportOptions): string => {
    const remote = new RemoteSdp({
      iceParameters: transport.iceParameters as ClientTypes.IceParameters,
      iceCandidates: transport.iceCandidates as ClientTypes.IceCandidate[],
      dtlsParameters: transport.dtlsParameters as ClientTypes.DtlsParameters,
    });
    // The sender is the DTLS client (as mediasoup-client's send transports are): we answer passive.
    remote.updateDtlsRole('server');
    if (offer.sdp.extmapAllowMixed) remote.setSessionExtmapAllowMixed();
    for (const s of sections) {
      remote.send({
        offerMediaObject: s.media,
        offerRtpParameters: s.offerParams,
        answerRtpParameters: s.answerParams,
      });
    }
    return remote.getSdp();
  };
  return { tracks, answer };
}

/** The DTLS parameters mediasoup connects with: the offerer (sender or viewer) plays the client. */
export function senderDtls(offer: WhipOffer): ClientTypes.DtlsParameters {
  return { ...offer.dtlsParameters, role: 'client' };
}
