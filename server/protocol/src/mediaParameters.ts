/**
 * Structural wire types for the RTP, ICE, DTLS and SCTP parameters that travel in requests
 * and answers. They spell out what mediasoup (server) and mediasoup-client (browser) send,
 * without depending on either: the server passes them to mediasoup and the client to
 * mediasoup-client as they are. Where the two libraries differ, a field is the union of
 * both (every library-produced value fits); see client/src/lib/media/wire.ts for the one spot
 * where mediasoup-client's narrower header-extension list needs a conversion.
 */

export type MediaKind = 'audio' | 'video';

export interface RtcpFeedback {
  type: string;
  parameter?: string;
}

export interface RtpCodecCapability {
  kind: MediaKind;
  mimeType: string;
  preferredPayloadType: number;
  clockRate: number;
  channels?: number;
  parameters?: Record<string, unknown>;
  rtcpFeedback?: RtcpFeedback[];
}

/** mediasoup's list (mediasoup-client's lacks 'urn:ietf:params:rtp-hdrext:toffset'). */
export type RtpHeaderExtensionUri =
  | 'urn:ietf:params:rtp-hdrext:sdes:mid'
  | 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id'
  | 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id'
  | 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time'
  | 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01'
  | 'urn:ietf:params:rtp-hdrext:ssrc-audio-level'
  | 'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension'
  | 'urn:3gpp:video-orientation'
  | 'http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time'
  | 'urn:ietf:params:rtp-hdrext:toffset'
  | 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay'
  | 'urn:mediasoup:params:rtp-hdrext:packet-id';

export type RtpHeaderExtensionDirection = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export interface RtpHeaderExtension {
  kind: MediaKind;
  uri: RtpHeaderExtensionUri;
  preferredId: number;
  preferredEncrypt?: boolean;
  direction?: RtpHeaderExtensionDirection;
}

/** What a router offers (`room.join`, `media.getRouterRtpCapabilities`) and a device can receive (`media.ready`). */
export interface RtpCapabilities {
  codecs?: RtpCodecCapability[];
  headerExtensions?: RtpHeaderExtension[];
}

export interface RtpCodecParameters {
  mimeType: string;
  payloadType: number;
  clockRate: number;
  channels?: number;
  parameters?: Record<string, unknown>;
  rtcpFeedback?: RtcpFeedback[];
}

export interface RtpHeaderExtensionParameters {
  uri: RtpHeaderExtensionUri;
  id: number;
  encrypt?: boolean;
  parameters?: Record<string, unknown>;
}

type EncodingPriority = 'very-low' | 'low' | 'medium' | 'high';

/** mediasoup's fields plus the sender-side ones mediasoup-client adds (all optional). */
export interface RtpEncodingParameters {
  ssrc?: number;
  rid?: string;
  codecPayloadType?: number;
  rtx?: { ssrc: number };
  dtx?: boolean;
  scalabilityMode?: string;
  maxBitrate?: number;
  active?: boolean;
  scaleResolutionDownBy?: number;
  maxFramerate?: number;
  adaptivePtime?: boolean;
  priority?: EncodingPriority;
  networkPriority?: EncodingPriority;
}

export interface RtcpParameters {
  cname?: string;
  reducedSize?: boolean;
  mux?: boolean;
}

/** A producer's (`media.produce`) or consumer's (`media.newConsumer`) RTP parameters. */
export interface RtpParameters {
  mid?: string;
  codecs: RtpCodecParameters[];
  headerExtensions?: RtpHeaderExtensionParameters[];
  encodings?: RtpEncodingParameters[];
  rtcp?: RtcpParameters;
  msid?: string;
}

export interface IceParameters {
  usernameFragment: string;
  password: string;
  iceLite?: boolean;
}

export interface IceCandidate {
  foundation: string;
  priority: number;
  ip: string;
  address: string;
  protocol: 'udp' | 'tcp';
  port: number;
  /** mediasoup only ever offers 'host'/'passive'; the wider lists are mediasoup-client's. */
  type: 'host' | 'srflx' | 'prflx' | 'relay';
  tcpType?: 'active' | 'passive' | 'so';
}

export type FingerprintAlgorithm = 'sha-1' | 'sha-224' | 'sha-256' | 'sha-384' | 'sha-512';

export interface DtlsFingerprint {
  algorithm: FingerprintAlgorithm;
  value: string;
}

export type DtlsRole = 'auto' | 'client' | 'server';

export interface DtlsParameters {
  role?: DtlsRole;
  fingerprints: DtlsFingerprint[];
}

/** The fields mediasoup-client reads (mediasoup sends more; they pass through). */
export interface SctpParameters {
  port: number;
  maxSendMessageSize: number;
  maxReceiveMessageSize: number;
  OS?: number;
  MIS?: number;
  maxMessageSize?: number;
}
